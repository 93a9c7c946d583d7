import { randomInt } from 'node:crypto';

/** No 0/O, 1/I/L, U/V: nothing a doctor reads aloud or a patient reads on a phone can be mistaken. */
const ALPHABET = '23456789ABCDEFGHJKMNPQRSTWXYZ';

/**
 * The short code the doctor reads to the patient and the patient finds on their phone (CIBA
 * `binding_message`), e.g. `K7-MZ4Q`: six characters, grouped for reading aloud, in ASCII
 * letters, digits and `-` only so any device shows it.
 */
export function createBindingMessage(): string {
  const pick = () => ALPHABET[randomInt(ALPHABET.length)]!;
  return `${pick()}${pick()}-${pick()}${pick()}${pick()}${pick()}`;
}
