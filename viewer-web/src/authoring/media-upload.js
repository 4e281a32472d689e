// A photo or short video for a step goes to the server (`POST /twins/NAME/media`, docs/protocol.md),
// which stores it by content hash and answers its path in the scan folder ("media/<sha256>.<ext>");
// the step's `media` refers to that path. The server decides the kind by the bytes; this only
// says which kind the document should call it.

/** The document's media type of a file: "video" for videos, else "image". */
export function mediaType(file) {
  return String(file?.type || '').startsWith('video/') ? 'video' : 'image';
}

/** Uploads `file` (a File or Blob) and resolves with { uri, type } for a step's `media`; throws the server's sentence. */
export async function uploadMedia({ twin, token, file }) {
  const response = await fetch(`/twins/${encodeURIComponent(twin)}/media`, {
    method: 'POST',
    headers: token ? { Authorization: `Bearer ${token}` } : {},
    body: file,
  });
  const answer = await response.text();
  if (response.status !== 201) {
    let reason = answer.trim();
    try { reason = JSON.parse(answer).message || JSON.parse(answer).error || reason; } catch { /* a plain sentence */ }
    throw new Error(`${file.name || 'the file'}: ${reason || `the server answered ${response.status}`}`);
  }
  return { uri: JSON.parse(answer).path, type: mediaType(file) };
}
