/**
 * Entry point: builds the commander program and runs it. The only module that
 * reads process.argv and sets process.exitCode.
 */
import { CommanderError } from 'commander';
import { terminalOutput } from '../ui/output.js';
import { VERSION } from '../version.js';
import type { CommandContext } from './context.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { buildProgram } from './program.js';

async function main(): Promise<void> {
  const output = await terminalOutput();
  let exitCode: ExitCode = EXIT.ok;
  const ctx: CommandContext = {
    output,
    setExitCode: (code) => {
      exitCode = code;
    },
    env: process.env,
    cwd: process.cwd(),
  };
  try {
    const program = buildProgram(ctx);
    await program.parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are not errors; commander already printed them. Help
      // shown because no command was given (`commander.help` with a non-zero
      // exit code) is a usage error.
      exitCode =
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        (error.code === 'commander.help' && error.exitCode === 0)
          ? EXIT.ok
          : EXIT.invalid;
    } else {
      const message = error instanceof Error ? error.message : String(error);
      output.err(`bearing: internal error (bearing ${VERSION}): ${message}`);
      output.err('Please report this with the command you ran. Set BEARING_DEBUG=1 for details.');
      if (process.env.BEARING_DEBUG && error instanceof Error && error.stack)
        output.err(error.stack);
      exitCode = EXIT.internal;
    }
  }
  process.exitCode = exitCode;
}

await main();
