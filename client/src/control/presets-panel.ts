/**
 * Presets: a grid of tiles per bank (GET /api/presets) that recall with the chosen crossfade, the first
 * three banks on keyboard rows (see preset-keys.ts); save the current state under a name and bank; rename
 * and delete in edit mode (delete asks first, in a dialog that works on touch). Refreshed on `presets`.
 */
import type { PresetList, PresetSummary } from '../lib/protocol.ts';
import { confirmAction, askText } from './dialog.ts';
import { fill, h, isTextEntry, panel } from './dom.ts';
import { flash } from './learn.ts';
import type { Page } from './page.ts';
import { keyLabel, orderBanks, presetForKey } from './preset-keys.ts';
import { Slider } from './slider.ts';

const DEFAULT_BANK = 'default';
const path = (p: PresetSummary) => `/presets/${encodeURIComponent(p.bank)}/${encodeURIComponent(p.name)}`;

export class PresetsPanel {
  readonly el: HTMLElement;
  private readonly grid = h('div', { class: 'preset-banks', testid: 'preset-grid' });
  private readonly problems = h('div', { class: 'muted small', testid: 'preset-problems' });
  private readonly banksList = h('datalist', { attrs: { id: 'preset-banks' } });
  private readonly nameInput = h('input', { testid: 'preset-name', attrs: { type: 'text', placeholder: 'preset name', maxlength: 100, 'aria-label': 'preset name', enterkeyhint: 'done' } });
  private readonly bankInput = h('input', { testid: 'preset-bank', attrs: { type: 'text', placeholder: 'bank', maxlength: 64, list: 'preset-banks', 'aria-label': 'bank', autocapitalize: 'off' } });
  private readonly crossfade: Slider;
  private readonly editToggle: HTMLButtonElement;
  private editing = false;
  private banks: { bank: string; presets: PresetSummary[] }[] = [];
  private active: string | null = null;
  private loading: Promise<void> | null = null;
  private again = false;

  constructor(private readonly page: Page) {
    this.bankInput.value = DEFAULT_BANK;
    this.crossfade = new Slider({ id: 'preset-crossfade', label: 'crossfade', min: 0, max: 10, step: 0.1, value: 1, format: (v) => `${v.toFixed(1)} s`, onChange: () => undefined });
    this.editToggle = h('button', { class: 'small', text: 'edit', testid: 'presets-edit', attrs: { 'aria-pressed': 'false' }, on: { click: () => this.setEditing(!this.editing) } });
    const save = h('button', { class: 'primary', text: 'save', testid: 'preset-save', on: { click: () => this.save() } });
    this.nameInput.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') void this.save();
    });
    const form = h('div', { class: 'row save-form' }, this.nameInput, this.bankInput, this.banksList, save);
    this.el = panel('Presets', 'panel-presets', this.crossfade.el, this.grid, form, this.problems);
    this.el.querySelector('h2')?.append(this.editToggle);
    page.bus.on('welcome', () => void this.refresh());
    page.bus.on('presets', () => void this.refresh());
    document.addEventListener('keydown', (e) => this.key(e));
  }

  /** Fetches the list; a refresh asked for while one runs runs once more after it. */
  async refresh(): Promise<void> {
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    this.loading = (async () => {
      do {
        this.again = false;
        const list = await this.page.call<PresetList>('/presets', {}, 'presets');
        if (list) this.show(list);
      } while (this.again);
    })().finally(() => (this.loading = null));
    return this.loading;
  }

  private show(list: PresetList): void {
    const byBank = new Map<string, PresetSummary[]>();
    for (const p of list.presets) byBank.set(p.bank, [...(byBank.get(p.bank) ?? []), p]);
    this.banks = orderBanks([...byBank.keys()], DEFAULT_BANK).map((bank) => ({ bank, presets: byBank.get(bank) ?? [] }));
    fill(this.banksList, ...orderBanks([DEFAULT_BANK, ...byBank.keys()]).map((b) => h('option', { attrs: { value: b } })));
    this.render();
    fill(this.problems, ...list.problems.map((p) => h('div', { text: `skipped ${p.file}: ${p.message}` })));
  }

  private render(): void {
    if (this.banks.length === 0) {
      fill(this.grid, h('p', { class: 'muted', text: 'No presets yet: set up a look, name it below and save. Keys 1–0 recall the first bank.' }));
      return;
    }
    fill(
      this.grid,
      ...this.banks.map(({ bank, presets }, b) =>
        h('div', { class: 'bank', testid: `bank-${bank}` }, h('h3', { text: bank }), h('div', { class: 'tiles' }, ...presets.map((p, slot) => this.tile(p, b, slot)))),
      ),
    );
  }

  private tile(p: PresetSummary, bank: number, slot: number): HTMLElement {
    const key = keyLabel(bank, slot);
    const id = `${p.bank}/${p.name}`;
    const recall = h(
      'button',
      { class: 'recall', testid: 'preset-recall', title: `recall ${p.name}${key ? ` (key ${key})` : ''}`, on: { click: () => this.recall(p) } },
      h('span', { class: 'pname', text: p.name }),
      key ? h('kbd', { text: key, testid: 'preset-key' }) : null,
    );
    const tile = h('div', { class: `tile${this.active === id ? ' active' : ''}`, testid: 'preset-tile', attrs: { 'data-bank': p.bank, 'data-name': p.name } }, recall);
    if (this.editing) {
      tile.append(
        h(
          'div',
          { class: 'tile-edit' },
          h('button', { class: 'small', text: 'rename', testid: 'preset-rename', on: { click: () => this.rename(p) } }),
          h('button', { class: 'small danger', text: 'delete', testid: 'preset-delete', on: { click: () => this.remove(p) } }),
        ),
      );
    }
    return tile;
  }

  private setEditing(on: boolean): void {
    this.editing = on;
    this.editToggle.classList.toggle('on', on);
    this.editToggle.setAttribute('aria-pressed', String(on));
    this.render();
  }

  recall(p: PresetSummary): void {
    const crossfade = Number(this.crossfade.input.value);
    if (!this.page.send({ type: 'presetRecall', bank: p.bank, name: p.name, crossfade })) return;
    this.active = `${p.bank}/${p.name}`;
    for (const t of Array.from(this.grid.querySelectorAll<HTMLElement>('.tile'))) {
      const on = t.dataset['bank'] === p.bank && t.dataset['name'] === p.name;
      t.classList.toggle('active', on);
      if (on) flash(t);
    }
  }

  private async save(): Promise<void> {
    const name = this.nameInput.value.trim();
    const bank = this.bankInput.value.trim() || DEFAULT_BANK;
    if (!name) {
      this.page.toasts.show('warn', 'name the preset first', 'type a name in the box next to save');
      this.nameInput.focus();
      return;
    }
    const exists = this.banks.find((b) => b.bank === bank)?.presets.some((p) => p.name.toLowerCase() === name.toLowerCase());
    if (exists && !(await confirmAction('Replace preset?', `'${name}' in ${bank} exists; saving replaces it with the current state.`, 'replace'))) return;
    if (this.page.send({ type: 'presetSave', bank, name })) {
      this.page.toasts.show('info', `saved '${name}' in ${bank}`);
      this.nameInput.value = '';
    }
  }

  private async rename(p: PresetSummary): Promise<void> {
    const name = await askText(`Rename '${p.name}'`, p.name, 'rename');
    if (!name || name === p.name) return;
    if (await this.page.call(path(p), { method: 'PATCH', body: { name } }, 'rename')) await this.refresh();
  }

  private async remove(p: PresetSummary): Promise<void> {
    if (!(await confirmAction('Delete preset?', `'${p.name}' in ${p.bank} will be deleted from the server.`, 'delete'))) return;
    if (await this.page.call(path(p), { method: 'DELETE' }, 'delete')) await this.refresh();
  }

  private key(e: KeyboardEvent): void {
    if (e.ctrlKey || e.metaKey || e.altKey || e.repeat || isTextEntry(e.target) || document.querySelector('dialog[open]')) return;
    const at = presetForKey(e.code);
    if (!at) return;
    const p = this.banks[at.bank]?.presets[at.slot];
    if (!p) return;
    e.preventDefault();
    this.recall(p);
  }
}
