/** `rhodops audio list`: the audio inputs a capture source can open, as "backend:id" specs. */
import { Command } from 'commander';
import { RhodopsError } from '../errors.ts';
import { deviceSpec, listAudioDevices, type AudioDeviceList } from './devices.ts';

function noDevicesHint(platform: NodeJS.Platform): string {
  if (platform === 'darwin') return 'Connect a microphone or audio interface and allow the terminal microphone access (System Settings › Privacy & Security › Microphone).';
  if (platform === 'win32') return 'Connect a microphone, or enable "Stereo Mix" under Sound settings › Recording devices.';
  return 'Start PulseAudio/PipeWire (a desktop session does) or load an ALSA driver (`arecord -l` should list a card); in a container, pass the sound device or the pulse socket through. Without an input, play along with a file instead.';
}

export function formatDeviceList(list: AudioDeviceList): string {
  const rows = list.devices.map((d) => [deviceSpec(d), d.name + (d.isDefault ? ' (default)' : '') + (d.monitor ? ' (monitor: what this machine plays)' : '')]);
  const width = Math.max(...rows.map((r) => r[0]!.length), 'device'.length);
  const lines = [`${'device'.padEnd(width)}  description`, ...rows.map(([spec, name]) => `${spec!.padEnd(width)}  ${name}`)];
  for (const n of list.notes) lines.push(`(${n})`);
  return lines.join('\n') + '\n';
}

export function audioCommand(): Command {
  const audio = new Command('audio').description('audio inputs for the audio-reactive features');
  audio
    .command('list')
    .description('list the audio inputs ffmpeg can capture from (pulse, alsa, avfoundation, dshow)')
    .option('--json', 'print the list as JSON', false)
    .action(async (o: { json: boolean }) => {
      const list = await listAudioDevices();
      if (o.json) {
        process.stdout.write(JSON.stringify(list, null, 2) + '\n');
        return;
      }
      if (list.devices.length === 0) {
        throw new RhodopsError('AUDIO_NO_DEVICES', `No audio input devices found (${list.notes.join('; ') || 'nothing reported'}).`, { hint: noDevicesHint(list.platform) });
      }
      process.stdout.write(formatDeviceList(list));
    });
  return audio;
}
