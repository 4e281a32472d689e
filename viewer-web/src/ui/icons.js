// Small line icons (inline SVG, no font or file to fetch) for the top bar on narrow screens,
// where the mode tabs show their icon and only the selected one its name.

const SVG = 'http://www.w3.org/2000/svg';

// 24x24 stroke paths, one shape per mode or control.
const PATHS = {
  instructions: 'M9 6h11M9 12h11M9 18h11M4 6h.01M4 12h.01M4 18h.01', // a list of steps
  tour: 'M5 21V4M5 4h12l-2 4 2 4H5', // a flag on a pole
  planner: 'M3 17 17 3l4 4L7 21zM7 13l2 2M10 10l2 2M13 7l2 2', // a ruler
  more: 'M5 12h.01M12 12h.01M19 12h.01', // three dots
  fold: 'M6 9l6 6 6-6', // a chevron, turned by CSS when the panel is folded
};

/** An inline SVG icon named `name` (one of PATHS), hidden from screen readers: its control carries the words. */
export function icon(name) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('class', `icon icon-${name}`);
  const path = document.createElementNS(SVG, 'path');
  path.setAttribute('d', PATHS[name]);
  svg.append(path);
  return svg;
}
