/**
 * The `rhodops` command. Each subcommand lives with its area (trainer/, server/, render/, bench/).
 */
import { Command, CommanderError, Option } from 'commander';
import { isRhodopsError } from '../core/errors.ts';
import { setLogLevel, type LogLevel } from '../core/log.ts';
import { exportCommand, infoCommand } from './info.ts';
import { gpuCommand } from './gpu.ts';
import { benchCommand } from '../bench/command.ts';
import { serveCommand } from '../server/cli.ts';
import { renderCommand, sheetCommand } from '../render/cli.ts';
import { workerCommand } from '../render/farm/cli.ts';
import { datasetCommand } from '../trainer/prepare/cli.ts';
import { midiCommand } from '../server/midi/index.ts';
import { audioCommand } from '../core/audio/index.ts';
import { evalCommand, trainCommand } from '../trainer/cli.ts';

export function program(): Command {
  const cli = new Command('rhodops')
    .description('Play a trained GAN like an instrument: real-time generative visuals driven by MIDI and music.')
    .addOption(new Option('--log-level <level>', 'how much to log on stderr').choices(['debug', 'info', 'warn', 'error', 'silent']).default('info'))
    .hook('preAction', (cmd) => setLogLevel(cmd.opts<{ logLevel: LogLevel }>().logLevel))
    .showHelpAfterError()
    .exitOverride();
  cli.addCommand(serveCommand());
  cli.addCommand(midiCommand());
  cli.addCommand(audioCommand());
  cli.addCommand(trainCommand());
  cli.addCommand(datasetCommand());
  cli.addCommand(renderCommand());
  cli.addCommand(sheetCommand());
  cli.addCommand(workerCommand());
  cli.addCommand(evalCommand());
  cli.addCommand(infoCommand());
  cli.addCommand(gpuCommand());
  cli.addCommand(exportCommand());
  cli.addCommand(benchCommand());
  return cli;
}

/** Runs the CLI; returns the exit code. Known errors print one clear message, not a stack trace. */
export async function main(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv);
    // A command that ended without finishing its work (an interrupted render) sets its own status.
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    if (isRhodopsError(e)) {
      process.stderr.write(`rhodops: ${e.describe()}\n`);
      return 2;
    }
    process.stderr.write(`rhodops: unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 1;
  }
}
