/** `rhodops midi list`: the MIDI ports `serve --midi` can play from, or why this machine has none. */
import { Command } from 'commander';
import { formatPortList, RtMidiPortLister, type PortLister } from './ports.ts';

/** The text `rhodops midi list` prints: a human table, or JSON with `--json`. */
export function midiListText(lister: PortLister, json: boolean): string {
  try {
    const list = lister.list();
    return json ? `${JSON.stringify(list, null, 2)}\n` : formatPortList(list);
  } finally {
    lister.close();
  }
}

export function midiCommand(lister: () => PortLister = () => new RtMidiPortLister()): Command {
  const midi = new Command('midi').description('MIDI controllers: list the ports `serve --midi` can use');
  midi
    .command('list')
    .description('list MIDI inputs and outputs with their indexes (exits 0 even where the machine has no MIDI)')
    .option('--json', 'print {available, inputs, outputs} or {available: false, reason, hint} as JSON')
    .action((o: { json?: boolean }) => {
      process.stdout.write(midiListText(lister(), o.json === true));
    });
  return midi;
}
