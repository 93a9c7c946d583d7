/** The portal's one stylesheet, served as /style.css (the CSP allows styles from 'self' only). */
export const PORTAL_STYLE = `
:root { color-scheme: light; --ink: #1c2a24; --muted: #56625c; --line: #d3ddd8; --accent: #0f6b4f; --warn: #9a3412; --ok: #166534; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.6 system-ui, "Hiragino Sans", "Noto Sans JP", sans-serif; color: var(--ink); background: #f3f7f5; }
header.top { display: flex; flex-wrap: wrap; gap: .6rem 1rem; align-items: center; justify-content: space-between; padding: .6rem 1.2rem; background: #fff; border-bottom: 1px solid var(--line); }
header.top .brand { font-weight: 700; } header.top .brand small { font-weight: 400; color: var(--muted); margin-left: .4rem; }
header.top nav { display: flex; gap: 1rem; align-items: center; }
main { max-width: 52rem; margin: 1.5rem auto; padding: 1.5rem; background: #fff; border: 1px solid var(--line); border-radius: 8px; }
h1 { font-size: 1.4rem; margin: 0 0 1rem; } h2 { font-size: 1.15rem; margin: 1.8rem 0 .6rem; } h3 { font-size: 1rem; margin: 0 0 .4rem; }
label { font-weight: 600; display: block; margin: .7rem 0 .25rem; }
input, select { font: inherit; padding: .4rem .55rem; border: 1px solid #7d8a84; border-radius: 4px; width: 100%; max-width: 18rem; }
button { font: inherit; padding: .5rem 1.1rem; border-radius: 4px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
button.quiet { background: #fff; color: var(--accent); } button.danger { background: #fff; color: var(--warn); border-color: var(--warn); }
:focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }
.error { color: var(--warn); font-weight: 600; } .ok { color: var(--ok); font-weight: 600; }
.notice { font-size: .9rem; color: var(--muted); }
table { border-collapse: collapse; width: 100%; margin: .4rem 0 1rem; } th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: .9rem; color: var(--muted); font-weight: 600; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; } dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; }
.forms { display: grid; grid-template-columns: repeat(auto-fit, minmax(15rem, 1fr)); gap: 1rem; align-items: start; }
.forms form { border: 1px solid var(--line); border-radius: 6px; padding: .8rem 1rem 1rem; }
.forms button { margin-top: .9rem; }
.tag { display: inline-block; font-size: .75rem; font-weight: 600; color: #7c2d12; background: #ffedd5; border-radius: 3px; padding: 0 .35rem; margin-left: .3rem; }
.banner { padding: .6rem .9rem; border-radius: 6px; background: #ecfdf5; border: 1px solid #a7f3d0; }
.banner.warn { background: #fff7ed; border-color: #fed7aa; }
form.inline { display: inline; }
`;
