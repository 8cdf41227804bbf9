/**
 * Confirmations and name prompts as in-page dialogs: window.confirm/prompt are blocked or ugly on tablets,
 * stop the page (and its frames) while open, and cannot be styled for a dark stage.
 */
import { h } from './dom.ts';

function open<T>(build: (close: (v: T) => void) => { body: HTMLElement[]; focus?: HTMLElement }, cancelValue: T, testid: string): Promise<T> {
  return new Promise<T>((resolve) => {
    const dialog = h('dialog', { class: 'dialog', testid });
    let done = false;
    const close = (v: T) => {
      if (done) return;
      done = true;
      dialog.close();
      dialog.remove();
      resolve(v);
    };
    const { body, focus } = build(close);
    dialog.append(...body);
    // Esc closes a modal dialog with a 'cancel' event.
    dialog.addEventListener('cancel', (e) => {
      e.preventDefault();
      close(cancelValue);
    });
    document.body.append(dialog);
    dialog.showModal();
    focus?.focus();
  });
}

export function confirmAction(title: string, message: string, confirmLabel: string): Promise<boolean> {
  return open<boolean>(
    (close) => {
      const ok = h('button', { class: 'danger', text: confirmLabel, testid: 'dialog-confirm', on: { click: () => close(true) } });
      return {
        body: [
          h('h3', { text: title }),
          h('p', { text: message }),
          h('div', { class: 'row end' }, h('button', { text: 'cancel', testid: 'dialog-cancel', on: { click: () => close(false) } }), ok),
        ],
        focus: ok,
      };
    },
    false,
    'dialog-confirm-box',
  );
}

/** A text prompt; null when cancelled or left empty. */
export function askText(title: string, initial: string, okLabel: string): Promise<string | null> {
  return open<string | null>(
    (close) => {
      const input = h('input', { testid: 'dialog-input', attrs: { type: 'text', maxlength: 100, 'aria-label': title } });
      input.value = initial;
      const submit = () => close(input.value.trim() || null);
      input.addEventListener('keydown', (e) => {
        if (e.key === 'Enter') submit();
      });
      return {
        body: [
          h('h3', { text: title }),
          input,
          h('div', { class: 'row end' }, h('button', { text: 'cancel', testid: 'dialog-cancel', on: { click: () => close(null) } }), h('button', { class: 'primary', text: okLabel, testid: 'dialog-ok', on: { click: submit } })),
        ],
        focus: input,
      };
    },
    null,
    'dialog-text-box',
  );
}
