// A step's photo or video, from the twin's media (`GET /twins/NAME/media/...`). Fetched with
// the token in the Authorization header (a twin that is not published needs it, and a token in
// an <img> URL would end up in logs), then shown from a blob URL kept for the page's life.

import { el } from './ui.js';
import { localized } from './i18n.js';

const blobUrls = new Map(); // media URL -> blob URL (or its promise)

function blobUrl(url, headers) {
  if (!blobUrls.has(url)) {
    blobUrls.set(url, fetch(url, { headers }).then(async (response) => {
      if (!response.ok) throw new Error(`${url} answered ${response.status}.`);
      return URL.createObjectURL(await response.blob());
    }).catch((error) => { blobUrls.delete(url); throw error; }));
  }
  return blobUrls.get(url);
}

/** A <figure> with the media `item` ({ uri, type, caption? }) of twin `twin`, in `lang`. */
export function mediaFigure({ twin, headers, item, lang, onError = () => {} }) {
  const video = item.type === 'video';
  const media = el(video ? 'video' : 'img', { class: 'step-media', 'data-testid': 'step-media', 'data-uri': item.uri, alt: localized(item.caption, lang) || '', ...(video ? { controls: true, muted: true, playsinline: true } : {}) });
  blobUrl(`/twins/${encodeURIComponent(twin)}/${item.uri.split('/').map(encodeURIComponent).join('/')}`, headers)
    .then((src) => { media.src = src; })
    .catch((error) => { media.replaceWith(el('p', { class: 'muted', 'data-testid': 'step-media-missing' }, item.uri)); onError(error); });
  const caption = localized(item.caption, lang);
  return el('figure', { class: 'media' }, media, caption ? el('figcaption', {}, caption) : null);
}
