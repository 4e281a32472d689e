// One field per language of the document for a text an author writes, each marked when its
// translation is missing; after a conflict, the author's own text stands beside the newest one
// with a button that puts it back.

import { el, button } from '../ui/ui.js';

/**
 * @param languages the document's languages
 * @param draft { lang: text } that the fields edit in place
 * @param mine after a conflict, the author's own { lang: text } where it differs, else null
 * @param multiline textareas (steps, descriptions) instead of one-line inputs (titles)
 * @param testid prefix of the fields' data-testid: `${testid}-${lang}`
 */
export function textFields({ languages, draft, mine = null, multiline = false, testid, label, t, onInput = () => {} }) {
  const fields = languages.map((lang) => {
    const attributes = { 'data-testid': `${testid}-${lang}`, lang, 'aria-label': `${label} (${lang})`, rows: multiline ? 3 : null };
    const input = el(multiline ? 'textarea' : 'input', { ...attributes, ...(multiline ? {} : { type: 'text' }) });
    input.value = draft[lang] ?? '';
    const marker = el('span', { class: 'missing-translation', 'data-testid': `${testid}-${lang}-missing`, hidden: Boolean(input.value.trim()) }, t('missingTranslation'));
    input.addEventListener('input', () => {
      draft[lang] = input.value;
      marker.hidden = Boolean(input.value.trim());
      onInput(lang);
    });
    const theirs = mine?.[lang] != null && mine[lang] !== draft[lang]
      ? el('div', { class: 'your-text', 'data-testid': `${testid}-${lang}-mine` }, el('span', { class: 'muted' }, `${t('yourText')}: `), el('q', {}, mine[lang]),
        button(t('useMine'), () => { input.value = mine[lang]; input.dispatchEvent(new Event('input')); theirs.remove(); }, { 'data-testid': `${testid}-${lang}-use-mine` }))
      : null;
    return el('div', { class: 'text-field' }, el('span', { class: 'lang' }, lang.toUpperCase()), input, marker, theirs);
  });
  return el('fieldset', { class: 'texts' }, el('legend', {}, label), fields);
}
