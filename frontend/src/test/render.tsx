// A minimal render helper for component tests (react-dom + act, in jsdom).
import { act, type ReactNode } from 'react';
import { createRoot, type Root } from 'react-dom/client';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

export interface Rendered {
  container: HTMLElement;
  rerender: (ui: ReactNode) => void;
  unmount: () => void;
}

const mounted: Root[] = [];

export function render(ui: ReactNode): Rendered {
  const container = document.createElement('div');
  document.body.append(container);
  const root = createRoot(container);
  mounted.push(root);
  act(() => root.render(ui));
  return {
    container,
    rerender: (next) => act(() => root.render(next)),
    unmount: () => act(() => root.unmount()),
  };
}

export function cleanup(): void {
  for (const root of mounted.splice(0)) act(() => root.unmount());
  document.body.innerHTML = '';
}

/** The form control a <label> with this exact text is for. */
export function byLabel(container: HTMLElement, text: string): HTMLElement {
  const label = [...container.querySelectorAll('label')].find((l) => l.textContent?.trim() === text);
  const id = label?.htmlFor;
  const control = id ? container.ownerDocument.getElementById(id) : null;
  if (control === null) throw new Error(`no control labelled "${text}"`);
  return control;
}

export function byRole(container: HTMLElement, role: string, name?: string): HTMLElement {
  const implicit: Record<string, string> = { button: 'button', alert: '[role="alert"]', status: '[role="status"]' };
  const candidates = [...container.querySelectorAll<HTMLElement>(implicit[role] ?? `[role="${role}"]`)];
  const found = candidates.find((el) => name === undefined || (el.getAttribute('aria-label') ?? el.textContent ?? '').trim() === name);
  if (found === undefined) throw new Error(`no ${role} named "${name ?? ''}"`);
  return found;
}

/** Sets a controlled input's value the way a person typing would (React listens to `input`). */
export function type(element: HTMLElement, value: string): void {
  const input = element as HTMLInputElement | HTMLTextAreaElement;
  const proto = input instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
  act(() => {
    Object.getOwnPropertyDescriptor(proto, 'value')?.set?.call(input, value);
    input.dispatchEvent(new Event('input', { bubbles: true }));
  });
}

export function click(element: HTMLElement): void {
  act(() => element.click());
}

export function press(element: HTMLElement, key: string, init: KeyboardEventInit = {}): void {
  act(() => {
    element.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true, ...init }));
  });
}
