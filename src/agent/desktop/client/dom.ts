/** DOM building without HTML strings: elements from tag, options and children, text through textContent. */

export interface ElementOptions {
  className?: string;
  text?: string;
  attrs?: Record<string, string>;
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, options: ElementOptions = {}, children: Node[] = []): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (options.className) el.className = options.className;
  if (options.text !== undefined) el.textContent = options.text;
  for (const [name, value] of Object.entries(options.attrs ?? {})) el.setAttribute(name, value);
  el.append(...children);
  return el;
}

export function button(text: string, type: 'button' | 'submit' = 'button'): HTMLButtonElement {
  return h('button', { text, attrs: { type } });
}

/** A labelled control: the label wraps nothing, it points at the control by id. */
export function labelled(id: string, label: string, control: HTMLInputElement | HTMLSelectElement): HTMLDivElement {
  control.id = id;
  return h('div', { className: 'control' }, [h('label', { text: label, attrs: { for: id } }), control]);
}
