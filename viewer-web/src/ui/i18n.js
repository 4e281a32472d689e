// The viewer's own words in Italian and English, and the pick of a document text
// ({"it": ..., "en": ...}) in the chosen language.

export const LANGUAGES = ['it', 'en'];

const WORDS = {
  en: {
    loading: 'Loading the twin…',
    loaded: 'Twin loaded',
    points: 'points',
    instructions: 'Instructions',
    tour: 'Tour',
    planner: 'Planner',
    machine: 'Machine',
    procedure: 'Procedure',
    step: 'Step',
    of: 'of',
    previous: 'Previous',
    next: 'Next',
    done: 'Done',
    undo: 'Undo',
    stepDone: 'done',
    noProcedures: 'This machine has no procedures.',
    noTours: 'This twin has no tour you can see.',
    stop: 'Stop',
    visitors: 'other visitors here',
    layout: 'Layout',
    asIs: 'As scanned',
    saveAs: 'Save as…',
    layoutName: 'Name of the new layout',
    move: 'Move',
    rotate: 'Rotate',
    measure: 'Measure',
    state: 'State',
    topView: 'Top view',
    clearance: 'Clearance',
    selectMachine: 'Click a machine to select it.',
    measureHint: 'Click two points to measure.',
    measurementName: 'Name of the measurement',
    save: 'Save',
    measurements: 'Measurements',
    tooClose: 'too close to',
    wall: 'a wall',
    clearanceOk: 'All machines have their clearance.',
    readOnly: 'You may look but not edit (ask for a planner token).',
    enterAR: 'Enter AR',
    arUnavailable: 'AR is not available on this device or browser (WebXR immersive-ar is missing): staying in 3D.',
    align: 'Align',
    alignHint: 'Point at anchor {n} ({name}) in the room and tap.',
    aligned: 'Aligned: residual {r} cm',
    lookingForMarkers: 'Looking for markers: point the camera at a printed marker (or tap to align by hand).',
    markerSeen: 'Marker {ids} seen: hold still ({n} of {total} views).',
    markerUncertain: 'Marker {ids} seen, but too far or too square on to fix the turn (±{deg}°): come closer, step to the side, or look at another marker too.',
    alignedByMarker: 'Aligned by 1 marker ({ids}): {cm} cm / {px} px',
    alignedByMarkers: 'Aligned by {n} markers ({ids}): {cm} cm / {px} px',
    tapsNoMarkers: 'This twin has no marker anchors, so align by tapping.',
    tapsNoCamera: 'This browser gives no camera access, so align by tapping.',
    tapsMarkerFailure: 'Marker detection failed ({message}), so align by tapping.',
    exitAR: 'Exit AR',
    more: 'More: language, AR',
    disconnected: 'Connection lost, retrying…',
    connected: 'Connected',
    error: 'Error',
  },
  it: {
    loading: 'Caricamento del gemello…',
    loaded: 'Gemello caricato',
    points: 'punti',
    instructions: 'Istruzioni',
    tour: 'Visita',
    planner: 'Progetto',
    machine: 'Macchina',
    procedure: 'Procedura',
    step: 'Passo',
    of: 'di',
    previous: 'Indietro',
    next: 'Avanti',
    done: 'Fatto',
    undo: 'Annulla',
    stepDone: 'fatto',
    noProcedures: 'Questa macchina non ha procedure.',
    noTours: 'Questo gemello non ha visite che puoi vedere.',
    stop: 'Tappa',
    visitors: 'altri visitatori presenti',
    layout: 'Disposizione',
    asIs: 'Come scansionato',
    saveAs: 'Salva come…',
    layoutName: 'Nome della nuova disposizione',
    move: 'Sposta',
    rotate: 'Ruota',
    measure: 'Misura',
    state: 'Stato',
    topView: 'Vista dall\'alto',
    clearance: 'Spazio libero',
    selectMachine: 'Clicca una macchina per selezionarla.',
    measureHint: 'Clicca due punti per misurare.',
    measurementName: 'Nome della misura',
    save: 'Salva',
    measurements: 'Misure',
    tooClose: 'troppo vicina a',
    wall: 'una parete',
    clearanceOk: 'Tutte le macchine hanno il loro spazio.',
    readOnly: 'Puoi guardare ma non modificare (chiedi un token da progettista).',
    enterAR: 'Entra in AR',
    arUnavailable: 'La AR non è disponibile su questo dispositivo o browser (manca WebXR immersive-ar): resto in 3D.',
    align: 'Allinea',
    alignHint: 'Punta all\'ancora {n} ({name}) nella stanza e tocca.',
    aligned: 'Allineato: residuo {r} cm',
    lookingForMarkers: 'Cerco i marker: inquadra un marker stampato (o tocca per allineare a mano).',
    markerSeen: 'Marker {ids} visto: resta fermo ({n} di {total} viste).',
    markerUncertain: 'Marker {ids} visto, ma troppo lontano o troppo di fronte per fissare la rotazione (±{deg}°): avvicinati, spostati di lato o inquadra anche un altro marker.',
    alignedByMarker: 'Allineato con 1 marker ({ids}): {cm} cm / {px} px',
    alignedByMarkers: 'Allineato con {n} marker ({ids}): {cm} cm / {px} px',
    tapsNoMarkers: 'Questo gemello non ha ancore con marker: allinea toccando.',
    tapsNoCamera: 'Questo browser non dà accesso alla fotocamera: allinea toccando.',
    tapsMarkerFailure: 'Il rilevamento dei marker non è riuscito ({message}): allinea toccando.',
    exitAR: 'Esci dalla AR',
    more: 'Altro: lingua, AR',
    disconnected: 'Connessione persa, riprovo…',
    connected: 'Connesso',
    error: 'Errore',
  },
};

export function pickLanguage(requested, navigatorLanguages = []) {
  for (const candidate of [requested, ...navigatorLanguages]) {
    const code = String(candidate || '').slice(0, 2).toLowerCase();
    if (LANGUAGES.includes(code)) return code;
  }
  return 'en';
}

/** The viewer's word for `key` in `lang`, with {name} placeholders filled from `values`. */
export function t(lang, key, values = {}) {
  const template = (WORDS[lang] && WORDS[lang][key]) ?? WORDS.en[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ''));
}

/** A document text in `lang`, else in English, else in whichever language it has. */
export function localized(text, lang) {
  if (text == null) return '';
  if (typeof text === 'string') return text;
  return text[lang] ?? text.en ?? Object.values(text)[0] ?? '';
}
