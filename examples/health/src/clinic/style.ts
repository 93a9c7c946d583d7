/** The one stylesheet, served as /style.css (the CSP allows styles from 'self' only). */
export const STYLE = `
:root { color-scheme: light; --ink: #1d2430; --muted: #5b6575; --line: #d5dae2; --accent: #0b5cad; --warn: #9a3412; --ok: #166534; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.6 system-ui, "Hiragino Sans", "Noto Sans JP", sans-serif; color: var(--ink); background: #f4f6f9; }
header.top { display: flex; gap: 1rem; align-items: center; justify-content: space-between; padding: .6rem 1.2rem; background: #fff; border-bottom: 1px solid var(--line); }
header.top .brand { font-weight: 700; }
main { max-width: 52rem; margin: 1.5rem auto; padding: 1.5rem; background: #fff; border: 1px solid var(--line); border-radius: 8px; }
h1 { font-size: 1.4rem; margin: 0 0 1rem; } h2 { font-size: 1.15rem; margin: 1.6rem 0 .6rem; }
.en { display: block; font-size: .8em; font-weight: 400; color: var(--muted); }
label, legend { font-weight: 600; display: block; margin: .8rem 0 .3rem; }
input[type=text], input[type=password] { font: inherit; padding: .45rem .6rem; border: 1px solid #8a94a6; border-radius: 4px; width: 100%; max-width: 22rem; }
fieldset { border: 1px solid var(--line); border-radius: 6px; margin: 1rem 0; padding: .4rem 1rem .8rem; }
fieldset label { font-weight: 400; display: flex; gap: .5rem; align-items: baseline; margin: .35rem 0; }
fieldset label .en { display: inline; margin-left: .3rem; }
button { font: inherit; padding: .5rem 1.1rem; border-radius: 4px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
button.quiet { background: #fff; color: var(--accent); }
:focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }
.error { color: var(--warn); font-weight: 600; } .ok { color: var(--ok); font-weight: 600; }
.binding { font: 700 2.4rem/1.2 ui-monospace, "SFMono-Regular", Menlo, monospace; letter-spacing: .15em; padding: .6rem 1rem; border: 2px dashed var(--accent); display: inline-block; margin: .5rem 0; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0 1rem; } th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: .9rem; color: var(--muted); font-weight: 600; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; } dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; }
ul.plain { list-style: none; padding: 0; } ul.plain li { padding: .3rem 0; border-bottom: 1px solid var(--line); }
.notice { font-size: .9rem; color: var(--muted); }
form.inline { display: inline; }
.tag { display: inline-block; font-size: .75rem; font-weight: 600; color: #7c2d12; background: #ffedd5; border-radius: 3px; padding: 0 .35rem; margin-left: .3rem; }
.tag .en { display: inline; margin-left: .25rem; color: #7c2d12; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
`;
