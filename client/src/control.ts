/**
 * The performer's control page (`/`): a live preview, the latent controls (built from the model and the
 * mapping, moved by MIDI and audio), MIDI learn, presets, recording, model and audio source with meters,
 * server stats, output display settings, and this browser's MIDI and microphone fed to the server.
 */
import { AudioPanel } from './control/audio-panel.ts';
import { BrowserMidi } from './control/browser-midi.ts';
import { DisplayPanel } from './control/display-panel.ts';
import { h } from './control/dom.ts';
import { Header } from './control/header.ts';
import { arrange } from './control/layout.ts';
import { LatentPanel } from './control/latent-panel.ts';
import { LearnManager } from './control/learn.ts';
import { Microphone } from './control/microphone.ts';
import { ModelsPanel } from './control/models-panel.ts';
import { Page } from './control/page.ts';
import { PresetsPanel } from './control/presets-panel.ts';
import { Preview } from './control/preview.ts';
import { RecordingPanel } from './control/recording-panel.ts';
import { setErrorSink } from './control/report.ts';
import { StatsPanel } from './control/stats-panel.ts';
import { Toasts } from './control/toasts.ts';

function main(): void {
  const toasts = new Toasts();
  setErrorSink((e, context) => toasts.error(e, context));
  // Whatever still escapes shows as a toast rather than vanishing into the console.
  window.addEventListener('error', (e) => toasts.error(e.error ?? e.message, 'unexpected'));
  window.addEventListener('unhandledrejection', (e) => {
    e.preventDefault();
    toasts.error(e.reason, 'unexpected');
  });

  const page = new Page(toasts);
  const learn = new LearnManager(page);
  const mic = new Microphone(page);
  const app = h('main', { class: 'layout', testid: 'app' });
  arrange(app, {
    preview: new Preview(page).el,
    stats: new StatsPanel(page).el,
    recording: new RecordingPanel(page).el,
    models: new ModelsPanel(page).el,
    latent: new LatentPanel(page, learn).el,
    presets: new PresetsPanel(page).el,
    audio: new AudioPanel(page, mic).el,
    midi: new BrowserMidi(page).el,
    display: new DisplayPanel(page).el,
  });
  document.body.replaceChildren(new Header(page).el, learn.banner, app, toasts.el);
  // Leaving the page stops the microphone cleanly (tracks released; the server's source is left to the next page).
  window.addEventListener('pagehide', () => void mic.stop(false));
  page.start();
}

main();
