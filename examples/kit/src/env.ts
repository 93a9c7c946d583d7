/** Ends the process with `message` on stderr and exit code 64 (EX_USAGE): the configuration is wrong. */
export function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(64);
}

/** Environment variable `name` parsed as JSON; undefined when unset or empty; fail() when it is not JSON. */
export function jsonVariable<T>(name: string): T | undefined {
  const value = process.env[name];
  if (value === undefined || value === '') return undefined;
  try { return JSON.parse(value) as T; } catch { return fail(`${name} is not valid JSON`); }
}

/** Environment variable `name` as a port number (0-65535), `fallback` when unset; fail() otherwise. */
export function portVariable(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  return Number.isInteger(value) && value >= 0 && value < 65536 ? value : fail(`${name} must be a port number`);
}
