/**
 * Keyboard shortcuts for presets: the number row recalls the first bank's first ten presets, the Q row the
 * second bank's, the A row the third's. By physical key (KeyboardEvent.code), so the rows stay where the
 * hands know them on any keyboard layout. Pure: the tests run it in Node.
 */
export const KEY_ROWS: readonly { codes: readonly string[]; labels: readonly string[] }[] = [
  { codes: ['Digit1', 'Digit2', 'Digit3', 'Digit4', 'Digit5', 'Digit6', 'Digit7', 'Digit8', 'Digit9', 'Digit0'], labels: ['1', '2', '3', '4', '5', '6', '7', '8', '9', '0'] },
  { codes: ['KeyQ', 'KeyW', 'KeyE', 'KeyR', 'KeyT', 'KeyY', 'KeyU', 'KeyI', 'KeyO', 'KeyP'], labels: ['Q', 'W', 'E', 'R', 'T', 'Y', 'U', 'I', 'O', 'P'] },
  { codes: ['KeyA', 'KeyS', 'KeyD', 'KeyF', 'KeyG', 'KeyH', 'KeyJ', 'KeyK', 'KeyL', 'Semicolon'], labels: ['A', 'S', 'D', 'F', 'G', 'H', 'J', 'K', 'L', ';'] },
];

/** Which preset a key recalls: bank position (0–2) and position in the bank (0–9); null for other keys. */
export function presetForKey(code: string): { bank: number; slot: number } | null {
  for (let bank = 0; bank < KEY_ROWS.length; bank++) {
    const slot = KEY_ROWS[bank]!.codes.indexOf(code);
    if (slot >= 0) return { bank, slot };
  }
  return null;
}

/** The label shown on a tile, or null for presets past the shortcuts. */
export function keyLabel(bank: number, slot: number): string | null {
  return KEY_ROWS[bank]?.labels[slot] ?? null;
}

/** Banks in the grid's order: the default bank (where saves go and program changes recall) first. */
export function orderBanks(banks: readonly string[], defaultBank = 'default'): string[] {
  const unique = [...new Set(banks)];
  return unique.includes(defaultBank) ? [defaultBank, ...unique.filter((b) => b !== defaultBank)] : unique;
}
