import type { Demo } from './demo-world.ts';

/** What the demo prints once everything listens: where to go, who to be, what to try. */
export function instructions(demo: Demo): string {
  const { urls, people, doctor } = demo;
  const width = Math.max(...people.map((p) => p.username.length));
  return [
    '',
    '  Sekisho demo — everything here is fictional and generated for this run.',
    '',
    `  Sekisho (authorization server)   ${urls.sekisho}`,
    `  Clinic records system            ${urls.clinic}        doctor: ${doctor.id} / ${doctor.password}`,
    `  Health-record API (FHIR)         ${urls.healthApi}`,
    `  Patient portal                   ${urls.portal}`,
    `  Fintech app (household budget)   ${urls.fintech}`,
    `  Bank API                         ${urls.bankApi}`,
    '',
    '  People (sign in at Sekisho with username and password):',
    ...people.map((p) => `    ${p.username.padEnd(width)}  ${p.password}   ${p.name} — ${p.role}`),
    '',
    '  Open banking (FAPI 2.0 Message Signing): a household-budget app reads hanako\'s bank accounts',
    `    1. At ${urls.fintech}, choose Connect, sign in at Sekisho as hanako, pick the accounts to share, allow.`,
    '    2. See balances and transactions; Send money asks again, for that one transfer only.',
    `    3. Disconnect in the app, or withdraw at ${urls.sekisho}/account/consents: the bank API refuses the app at once.`,
    '',
    '  Healthcare (CIBA): a doctor asks, the patient approves on their phone',
    `    1. As taro, open ${urls.sekisho}/account, sign in, and add a passkey (Sign-in & security).`,
    `    2. Open ${urls.sekisho}/device (the approval app; on a phone, or another browser window) and link it with the passkey.`,
    `    3. At ${urls.clinic}, sign in as ${doctor.id}, type patient number p-0001 (or p-0003: jiro, taro decides as his parent).`,
    '    4. Compare the code on both screens, allow on the device with the passkey: the clinic shows the records.',
    `    5. At ${urls.portal}, taro signs in, adds a home blood pressure; the doctor's next request shows it.`,
    '',
    '  Press Ctrl+C to stop. The data is in .demo-data/ and is emptied at the next start.',
    '',
  ].join('\n');
}
