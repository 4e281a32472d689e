// A document text is one string per language ({"it": "Accendi", "en": "Switch on"}). The server
// refuses a text without every language of the document (twin/document/references.py), so an
// author who writes only one gets it copied into the others when saving; a verbatim copy of
// another language's text is what "missing translation" means in a saved document.

export const DEFAULT_LANGUAGES = ['it', 'en'];

export function documentLanguages(document) {
  return document?.languages?.length ? document.languages : DEFAULT_LANGUAGES;
}

const written = (value) => typeof value === 'string' && value.trim() !== '';

/** The languages of `languages` whose text is empty or a copy of an earlier language's text. */
export function missingTranslations(text, languages) {
  const missing = [];
  const seen = [];
  for (const lang of languages) {
    const value = text?.[lang];
    if (!written(value) || seen.includes(value.trim())) missing.push(lang);
    else seen.push(value.trim());
  }
  return missing;
}

/** The text to save: each language's own, the first written one copied where one is missing; null when none is written. */
export function completeText(draft, languages) {
  const first = languages.map((lang) => draft?.[lang]).find(written) ?? Object.values(draft || {}).find(written);
  if (!first) return null;
  return Object.fromEntries(languages.map((lang) => [lang, written(draft?.[lang]) ? draft[lang].trim() : first.trim()]));
}

/** The draft of a saved text: copies of another language are shown empty, so the author sees them as missing. */
export function draftOf(text, languages) {
  const missing = new Set(missingTranslations(text, languages));
  return Object.fromEntries(languages.map((lang) => [lang, missing.has(lang) ? '' : text?.[lang] ?? '']));
}
