/**
 * MIDI for the live server: a streaming byte parser shared by hardware ports and Web MIDI forwarded by browsers,
 * tempo from MIDI clock, the system's ports (absent on machines without MIDI, which is fine), and a manager that
 * follows hot-plugged controllers and sends them feedback. See manager.ts for the usage sketch.
 */
export type * from './events.ts';
export { DEFAULT_PARSER_OPTIONS, MidiParser, type MidiParserOptions } from './parser.ts';
export { DEFAULT_CLOCK_OPTIONS, MidiClock, PULSES_PER_QUARTER, type MidiClockOptions } from './clock.ts';
export { DeviceTimebase } from './timebase.ts';
export { formatPortList, RtMidiPortLister, type BytesListener, type InputPort, type OutputPort, type PortList, type PortLister, type RtMidiPortListerOptions } from './ports.ts';
export { describeSelection, matchInputs, parseMidiSelection, portKeys, type MidiSelection } from './selection.ts';
export { feedbackMessages, feedbackProblem, type FeedbackValue } from './feedback.ts';
export { MidiManager, type MidiConnection, type MidiManagerOptions } from './manager.ts';
export { midiCommand, midiListText } from './cli.ts';
