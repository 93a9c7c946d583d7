/** The one stylesheet, served as /style.css (the CSP allows styles from 'self' only). */
export const STYLE = `
:root { color-scheme: light; --ink: #1c2526; --muted: #58666a; --line: #d3dcdc; --accent: #0f6e64; --warn: #9a3412; --ok: #166534; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.6 system-ui, "Hiragino Sans", "Noto Sans JP", sans-serif; color: var(--ink); background: #f2f6f5; }
header.top { display: flex; gap: 1rem; align-items: center; justify-content: space-between; padding: .6rem 1.2rem; background: #fff; border-bottom: 1px solid var(--line); }
header.top .brand { font-weight: 700; color: var(--accent); }
header.top nav a { margin-left: 1rem; }
main { max-width: 54rem; margin: 1.5rem auto; padding: 1.5rem; background: #fff; border: 1px solid var(--line); border-radius: 8px; }
h1 { font-size: 1.4rem; margin: 0 0 1rem; } h2 { font-size: 1.15rem; margin: 1.6rem 0 .6rem; }
.en { display: block; font-size: .8em; font-weight: 400; color: var(--muted); }
a { color: var(--accent); }
label { font-weight: 600; display: block; margin: .8rem 0 .3rem; }
input[type=text], select { font: inherit; padding: .45rem .6rem; border: 1px solid #839093; border-radius: 4px; width: 100%; max-width: 22rem; background: #fff; }
input.short { max-width: 9rem; }
fieldset { border: 1px solid var(--line); border-radius: 6px; margin: 1rem 0; padding: .4rem 1rem .8rem; }
legend { font-weight: 600; padding: 0 .3rem; } legend .en { display: inline; margin-left: .4rem; }
button { font: inherit; padding: .5rem 1.1rem; border-radius: 4px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
button.quiet { background: #fff; color: var(--accent); }
button.danger { background: #fff; color: var(--warn); border-color: var(--warn); }
:focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }
.error { color: var(--warn); font-weight: 600; } .ok { color: var(--ok); font-weight: 600; }
.field-error { color: var(--warn); font-size: .9rem; margin: .2rem 0 0; }
.balance { font-size: 1.6rem; font-weight: 700; }
section.account { border: 1px solid var(--line); border-radius: 6px; padding: .2rem 1rem 1rem; margin: 1rem 0; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0 1rem; } th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
th { font-size: .9rem; color: var(--muted); font-weight: 600; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; } dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; }
ul.plain { list-style: none; padding: 0; } ul.plain li { padding: .3rem 0; border-bottom: 1px solid var(--line); }
.notice { font-size: .9rem; color: var(--muted); }
.actions { display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; margin: 1.2rem 0; }
form.inline { display: inline; }
`;
