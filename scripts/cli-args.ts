/**
 * The command-line options of the store scripts (`store:verify`, `store:repair`, `store:encrypt`): npm's
 * `--` dropped, strict parsing, `--help` printing the usage (exit 0), a bad option printing the reason
 * and the usage (exit 2).
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

export function cliOptions<O extends Options>(command: string, usage: string, options: O) {
  const config = {
    args: process.argv.slice(2).filter((a) => a !== '--'),
    options: { ...options, help: { type: 'boolean', short: 'h' } } as O & {
      help: { type: 'boolean'; short: 'h' };
    },
    strict: true as const,
    allowPositionals: false as const,
  };
  let values: ReturnType<typeof parseArgs<typeof config>>['values'];
  try {
    ({ values } = parseArgs(config));
  } catch (error) {
    process.stderr.write(
      `${command}: ${error instanceof Error ? error.message : String(error)}\n\n${usage}\n`,
    );
    process.exit(2);
  }
  if ((values as { help?: boolean }).help) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  return values;
}
