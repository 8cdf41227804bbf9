/** `rhodops audio list`: the parsers of each tool's output, and the listing per platform with fake tools. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDeviceList } from '../core/audio/cli.ts';
import {
  listAudioDevices,
  parseArecordList,
  parseAvfoundationDevices,
  parseDshowDevices,
  parseProcAsoundCards,
  parsePulseSources,
  type CommandResult,
  type DeviceProbe,
} from '../core/audio/devices.ts';

const PULSE = `Auto-detected sources for pulse:
  alsa_output.pci-0000_00_1f.3.analog-stereo.monitor [Monitor of Built-in Audio Analog Stereo] (none)
* alsa_input.pci-0000_00_1f.3.analog-stereo [Built-in Audio Analog Stereo] (none)
`;

const ARECORD = `**** List of CAPTURE Hardware Devices ****
card 0: PCH [HDA Intel PCH], device 0: ALC3246 Analog [ALC3246 Analog]
  Subdevices: 1/1
  Subdevice #0: subdevice #0
card 2: Microphone [Yeti Stereo Microphone], device 0: USB Audio [USB Audio]
  Subdevices: 1/1
`;

const CARDS = ` 0 [PCH            ]: HDA-Intel - HDA Intel PCH
                      HDA Intel PCH at 0xf7f30000 irq 32
 1 [Microphone     ]: USB-Audio - Yeti Stereo Microphone
                      Blue Microphones Yeti Stereo Microphone at usb-0000:00:14.0-2, full speed
`;

const AVFOUNDATION = `[AVFoundation indev @ 0x7f9] AVFoundation video devices:
[AVFoundation indev @ 0x7f9] [0] FaceTime HD Camera
[AVFoundation indev @ 0x7f9] [1] Capture screen 0
[AVFoundation indev @ 0x7f9] AVFoundation audio devices:
[AVFoundation indev @ 0x7f9] [0] MacBook Pro Microphone
[AVFoundation indev @ 0x7f9] [1] BlackHole 2ch
: Input/output error
`;

const DSHOW_NEW = `[dshow @ 000001c] "Integrated Camera" (video)
[dshow @ 000001c]   Alternative name "@device_pnp_\\\\?\\usb#vid_04f2"
[dshow @ 000001c] "Microphone Array (Realtek(R) Audio)" (audio)
[dshow @ 000001c]   Alternative name "@device_cm_{33D9A762-90C8-11D0-BD43-00A0C911CE86}\\wave_{A1B2}"
dummy: Immediate exit requested
`;

const DSHOW_OLD = `[dshow @ 0x1] DirectShow video devices (some may be both video and audio devices)
[dshow @ 0x1]  "Integrated Camera"
[dshow @ 0x1]     Alternative name "@device_pnp_x"
[dshow @ 0x1] DirectShow audio devices
[dshow @ 0x1]  "Microphone (USB Audio Device)"
[dshow @ 0x1]     Alternative name "@device_cm_y"
`;

function fakeProbe(platform: NodeJS.Platform, outputs: Record<string, Partial<CommandResult>>, files: Record<string, string> = {}): DeviceProbe {
  return {
    platform,
    ffmpeg: async () => 'ffmpeg',
    readFile: async (p) => files[p] ?? null,
    run: async (file, args) => {
      const key = [file, ...args].join(' ');
      const hit = Object.entries(outputs).find(([k]) => key.includes(k));
      if (!hit) return { stdout: '', stderr: '', code: null, missing: true };
      return { stdout: '', stderr: '', code: 0, missing: false, ...hit[1] };
    },
  };
}

describe('audio device parsers', () => {
  it('pulse: every source, the default marked, monitors flagged', () => {
    const d = parsePulseSources(PULSE);
    assert.equal(d.length, 2, 'two sources');
    assert.deepEqual(d[1], { backend: 'pulse', id: 'alsa_input.pci-0000_00_1f.3.analog-stereo', name: 'Built-in Audio Analog Stereo', isDefault: true, monitor: false });
    assert.equal(d[0]!.monitor, true, 'the .monitor source is a monitor');
    assert.deepEqual(parsePulseSources('Auto-detected sources for pulse:\nCannot list sources: Generic error in an external library\n'), [], 'an error lists nothing');
  });

  it('alsa: arecord -l as plughw:CARD=…,DEV=…; /proc/asound/cards as a fallback', () => {
    const a = parseArecordList(ARECORD);
    assert.deepEqual(
      a.map((d) => [d.id, d.name]),
      [
        ['plughw:CARD=PCH,DEV=0', 'HDA Intel PCH: ALC3246 Analog'],
        ['plughw:CARD=Microphone,DEV=0', 'Yeti Stereo Microphone: USB Audio'],
      ],
    );
    const c = parseProcAsoundCards(CARDS);
    assert.deepEqual(
      c.map((d) => [d.id, d.name]),
      [
        ['plughw:CARD=PCH,DEV=0', 'HDA Intel PCH'],
        ['plughw:CARD=Microphone,DEV=0', 'Yeti Stereo Microphone'],
      ],
    );
    assert.deepEqual(parseProcAsoundCards('--- no soundcards ---\n'), [], 'no cards');
  });

  it('avfoundation: only the audio devices, by index', () => {
    const d = parseAvfoundationDevices(AVFOUNDATION);
    assert.deepEqual(
      d.map((x) => [x.id, x.name, x.isDefault]),
      [
        ['0', 'MacBook Pro Microphone', true],
        ['1', 'BlackHole 2ch', false],
      ],
    );
  });

  it('dshow: audio devices in both the tagged and the sectioned formats, never alternative names', () => {
    assert.deepEqual(
      parseDshowDevices(DSHOW_NEW).map((d) => d.id),
      ['Microphone Array (Realtek(R) Audio)'],
    );
    assert.deepEqual(
      parseDshowDevices(DSHOW_OLD).map((d) => d.id),
      ['Microphone (USB Audio Device)'],
    );
  });
});

describe('listAudioDevices', () => {
  it('linux: pulse sources, then ALSA (default first) from /proc/asound/cards when arecord is missing', async () => {
    const list = await listAudioDevices(fakeProbe('linux', { '-sources pulse': { stdout: PULSE } }, { '/proc/asound/cards': CARDS }));
    assert.deepEqual(
      list.devices.map((d) => `${d.backend}:${d.id}`),
      ['pulse:alsa_output.pci-0000_00_1f.3.analog-stereo.monitor', 'pulse:alsa_input.pci-0000_00_1f.3.analog-stereo', 'alsa:default', 'alsa:plughw:CARD=PCH,DEV=0', 'alsa:plughw:CARD=Microphone,DEV=0'],
    );
    assert.deepEqual(list.notes, [], 'nothing to explain');
    const text = formatDeviceList(list);
    assert.ok(text.includes('pulse:alsa_input.pci-0000_00_1f.3.analog-stereo') && text.includes('(default)'), text);
    assert.ok(text.includes('monitor'), 'monitors are explained');
  });

  it('linux with nothing: no devices, and a note per backend saying why', async () => {
    const list = await listAudioDevices(
      fakeProbe('linux', { '-sources pulse': { stdout: 'Auto-detected sources for pulse:\nCannot list sources: Generic error in an external library\n' } }),
    );
    assert.deepEqual(list.devices, [], 'no devices');
    assert.equal(list.notes.length, 2, `notes: ${list.notes.join(' / ')}`);
    assert.ok(list.notes[0]!.startsWith('pulse:') && list.notes[0]!.includes('server'), list.notes[0]);
    assert.ok(list.notes[1]!.startsWith('alsa:') && list.notes[1]!.includes('arecord not installed'), list.notes[1]);
  });

  it('macOS and Windows use ffmpeg\'s own device listings', async () => {
    const mac = await listAudioDevices(fakeProbe('darwin', { avfoundation: { stderr: AVFOUNDATION, code: 1 } }));
    assert.deepEqual(
      mac.devices.map((d) => `${d.backend}:${d.id}`),
      ['avfoundation:0', 'avfoundation:1'],
    );
    const win = await listAudioDevices(fakeProbe('win32', { dshow: { stderr: DSHOW_NEW, code: 1 } }));
    assert.deepEqual(
      win.devices.map((d) => `${d.backend}:${d.id}`),
      ['dshow:Microphone Array (Realtek(R) Audio)'],
    );
    const none = await listAudioDevices(fakeProbe('win32', { dshow: { stderr: 'dummy: Immediate exit requested\n', code: 1 } }));
    assert.deepEqual(none.devices, [], 'none');
    assert.ok(none.notes[0]?.includes('dshow'), `note: ${none.notes[0]}`);
  });

  it('says so when ffmpeg itself is missing', async () => {
    const probe = fakeProbe('linux', {});
    probe.ffmpeg = async () => {
      throw new Error('No working ffmpeg');
    };
    const list = await listAudioDevices(probe);
    assert.deepEqual(list.devices, [], 'none');
    assert.ok(list.notes[0]?.includes('No working ffmpeg'), `note: ${list.notes[0]}`);
  });
});
