// Small DOM helpers for the panels: elements from a tag, attributes and children.

export function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value == null || value === false) continue;
    if (key.startsWith('on')) element.addEventListener(key.slice(2).toLowerCase(), value);
    else if (key === 'dataset') Object.assign(element.dataset, value);
    else if (key in element && typeof value !== 'string') element[key] = value;
    else element.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

export function select(options, value, onChange, attributes = {}) {
  const element = el('select', { ...attributes, onChange: (e) => onChange(e.target.value) },
    options.map(([optionValue, label]) => el('option', { value: optionValue }, label)));
  element.value = value;
  return element;
}

export function button(label, onClick, attributes = {}) {
  return el('button', { type: 'button', ...attributes, onClick }, label);
}

/** Makes `toggle` open and close `menu` (its `open` class and aria-expanded); Escape or a press elsewhere closes it. */
export function disclosure(toggle, menu) {
  const setOpen = (open) => {
    menu.classList.toggle('open', open);
    toggle.setAttribute('aria-expanded', String(open));
  };
  toggle.addEventListener('click', () => setOpen(!menu.classList.contains('open')));
  document.addEventListener('pointerdown', (e) => {
    if (!toggle.contains(e.target) && !menu.contains(e.target)) setOpen(false);
  });
  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape' || !menu.classList.contains('open')) return;
    setOpen(false);
    toggle.focus();
  });
}
