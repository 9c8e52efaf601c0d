"""Small interactive pages and their actions (groceries, settings) and the judge call the
interactive-judge tests share; the `tasks` fixture (tests/conftest.py) records them."""
from __future__ import annotations

from agents.judge_graph import judge_page
from judge.score import ScoreConfig
from judge.tasks import Viewport

VP = Viewport(width=800, height=600)


OFFLINE = ScoreConfig(embedder="classic")


# ---- task 1: groceries (type, click, tab, ordinal star, window scroll) --------------------------
STYLE = """body{font:16px sans-serif;margin:20px} .tab{padding:6px 12px;border:1px solid #888;background:#eee}
.tab.on{background:#333;color:#fff} #stars span{font-size:28px;color:#bbb;cursor:pointer}
#stars span.on{color:#f5a623}"""


GROCERY_JS = {
    "add": """document.getElementById('add').addEventListener('click',()=>{const item=document.getElementById('item');
  if(!item.value) return; const li=document.createElement('li'); li.textContent=item.value;
  document.getElementById('list').appendChild(li); item.value='';});""",
    "tab": """for (const [id,txt] of [['t1','Overview panel'],['t2','Details panel']]) document.getElementById(id)
  .addEventListener('click',()=>{document.querySelectorAll('.tab').forEach(t=>t.classList.remove('on'));
  document.getElementById(id).classList.add('on');document.getElementById('panel').textContent=txt;});""",
    "star": """document.querySelectorAll('#stars span').forEach((s,i)=>s.addEventListener('click',()=>{
  document.querySelectorAll('#stars span').forEach((x,j)=>x.classList.toggle('on',j<=i));
  document.getElementById('rating').textContent=(i+1)+' / 5';}));""",
}


def grocery_page(dead: frozenset = frozenset(), scripts: bool = True) -> str:
    """The reference page; `dead` removes the behaviour behind actions: "type" (read-only
    field), "add", "tab", "star" (their handlers), "scroll" (nothing to scroll)."""
    js = "\n".join(v for k, v in GROCERY_JS.items() if k not in dead) if scripts else ""
    return f"""<!doctype html><html><head><style>{STYLE}</style></head><body>
<h1>Groceries</h1>
<input id="item" placeholder="New item" aria-label="New item"{' readonly' if 'type' in dead else ''}> <button id="add">Add</button>
<ul id="list"></ul>
<div><button class="tab on" id="t1">Overview</button><button class="tab" id="t2">Details</button></div>
<div id="panel">Overview panel</div>
<div id="stars"><span>★</span><span>★</span><span>★</span><span>★</span><span>★</span></div>
<p id="rating">No rating</p>
{'' if 'scroll' in dead else '<div style="height:1500px"></div><footer>Footer text</footer>'}
<script>{js}</script></body></html>"""


GROCERY_ACTIONS = [
    {"type": "type", "description": "Type 'Milk' into the new item field", "text": "Milk",
     "target": {"role": "textbox", "name": "New item", "selector": "#item"}},
    {"type": "click", "description": "Click the 'Add' button", "target": {"role": "button", "name": "Add", "selector": "#add"},
     "assertion": 'The list shows "Milk"'},
    {"type": "click", "description": "Click the 'Details' tab", "target": {"role": "button", "name": "Details", "selector": "#t2"},
     "assertion": 'The panel shows "Details panel" instead of "Overview panel"', "visual_check": True},
    {"type": "click", "description": "Click the 4th star", "target": {"selector": "#stars span:nth-child(4)"},
     "assertion": 'The rating shows "4 / 5"'},
    {"type": "scroll", "description": "Scroll down the page", "direction": "down", "amount": 600, "visual_check": True},
]


DEAD_FOR_ACTION = ["type", "add", "tab", "star", "scroll"]   # what breaks action k (0-based)


# renamed ids/classes, restructured DOM, same texts and look
GROCERY_RENAMED = f"""<!doctype html><html><head><style>{STYLE.replace('#stars span', '.w i').replace('.tab', '.q')}
.q{{display:inline-block}} .k7{{display:inline-block;border:1px solid #888;padding:1px 6px;cursor:pointer}}</style></head>
<body><section><header><h1>Groceries</h1></header>
<div class="r1"><span class="r2"><input id="q9" placeholder="New item" aria-label="New item"></span> <span class="k7">Add</span></div>
<ol class="z" style="list-style:disc"></ol>
<nav><a class="q on" href="#">Overview</a><a class="q" href="#">Details</a></nav>
<section class="p0">Overview panel</section>
<div class="w"><i>★</i><i>★</i><i>★</i><i>★</i><i>★</i></div><p class="m">No rating</p>
<div style="height:1500px"></div><footer>Footer text</footer></section>
<script>
document.querySelector('.k7').addEventListener('click',()=>{{const f=document.getElementById('q9'); if(!f.value) return;
  const li=document.createElement('li'); li.textContent=f.value; document.querySelector('.z').appendChild(li); f.value='';}});
document.querySelectorAll('.q').forEach(a=>a.addEventListener('click',(e)=>{{e.preventDefault();
  document.querySelectorAll('.q').forEach(t=>t.classList.remove('on')); a.classList.add('on');
  document.querySelector('.p0').textContent=a.textContent+' panel';}}));
document.querySelectorAll('.w i').forEach((s,i)=>s.addEventListener('click',()=>{{
  document.querySelectorAll('.w i').forEach((x,j)=>x.classList.toggle('on',j<=i)); document.querySelector('.m').textContent=(i+1)+' / 5';}}));
</script></body></html>"""


# the right behaviour, a different DOM and layout (two columns, tabs on top, stars as buttons)
GROCERY_RELAYOUT = """<!doctype html><html><head><style>
body{margin:0;font:15px Georgia,serif;display:flex;gap:30px;background:#fafaf5}
aside{width:220px;padding:30px;background:#e8eef7;min-height:2200px} main{padding:30px;flex:1}
.rate button{border:none;background:none;font-size:22px;cursor:pointer;color:#999} .rate button.lit{color:#c60}
[role=tab]{display:inline-block;padding:8px 16px;margin-right:6px;border-bottom:3px solid transparent;cursor:pointer}
[role=tab][aria-selected=true]{border-color:#06c}
</style></head><body>
<aside><h2>Rate us</h2><div class="rate"></div><div id="rt">Rating: none</div></aside>
<main><div role="tablist"><div role="tab" aria-selected="true">Overview</div><div role="tab" aria-selected="false">Details</div></div>
<article id="pn" style="padding:20px 0">Overview panel</article>
<h1 style="font-size:20px">Groceries</h1>
<form onsubmit="return false"><input placeholder="New item" style="width:260px"> <button type="button" id="go">＋ Add</button></form>
<div id="items"></div></main>
<script>
const rate=document.querySelector('.rate');
for(let i=0;i<5;i++){const b=document.createElement('button'); b.textContent='☆'; b.setAttribute('aria-label','Rate '+(i+1)+' of 5');
  b.onclick=()=>{rate.querySelectorAll('button').forEach((x,j)=>{x.classList.toggle('lit',j<=i); x.textContent=j<=i?'★':'☆';});
  document.getElementById('rt').textContent='Rating: '+(i+1)+' / 5';}; rate.appendChild(b);}
document.querySelectorAll('[role=tab]').forEach(t=>t.addEventListener('pointerdown',()=>{
  document.querySelectorAll('[role=tab]').forEach(x=>x.setAttribute('aria-selected','false')); t.setAttribute('aria-selected','true');
  document.getElementById('pn').textContent=t.textContent+' panel';}));
document.getElementById('go').addEventListener('click',()=>{const f=document.querySelector('input'); if(!f.value) return;
  const d=document.createElement('div'); d.textContent='• '+f.value; document.getElementById('items').appendChild(d); f.value='';});
</script></body></html>"""


# the stars drawn by CSS only (no text, meaningless classes): only the visual rung can find them
def _star_svg(colour: str) -> str:
    return ("url(\"data:image/svg+xml;utf8,<svg xmlns='http://www.w3.org/2000/svg' width='24' height='33'>"
            f"<text x='0' y='26' font-family='sans-serif' font-size='28' fill='%23{colour}'>★</text></svg>\")")


# the stars as images: no text, no ::before glyph, no name -- only pixels say what they are
GROCERY_ICONS = grocery_page().replace('<div id="stars"><span>★</span><span>★</span><span>★</span><span>★</span><span>★</span></div>',
                                       '<div id="r8">' + '<span class="c3"></span>' * 5 + '</div>') \
    .replace("#stars span{font-size:28px", f".c3{{display:inline-block;width:24px;height:33px;background:{_star_svg('bbb')} no-repeat}} .c3{{font-size:28px") \
    .replace("#stars span.on{color:#f5a623}", f".c3.on{{background-image:{_star_svg('f5a623')}}}") \
    .replace("'#stars span'", "'#r8 span'")


BLANK = "<!doctype html><html><body><h1>Groceries</h1><p>Nothing here yet.</p></body></html>"


# ---- task 2: settings (select, hover, type + press, dblclick, container scroll, click, wait) ----
SETTINGS = """<!doctype html><html><head><style>body{font:16px sans-serif;margin:20px}
#help{display:inline-block;width:22px;height:22px;border-radius:11px;background:#36c;color:#fff;text-align:center}
#tip{position:absolute;left:50px;top:140px;background:#ffd;border:1px solid #cc9;padding:4px;width:120px} #log{height:120px;overflow:auto;border:1px solid #999;width:300px}
</style></head><body>
<h1 id="title">Profile</h1>
<label>Size <select id="size"><option>Small</option><option>Medium</option><option>Large</option></select></label>
<p id="preview">Size: Small</p>
<span id="help">?</span><div id="tip" hidden>Need help?</div>
<p><input id="name" placeholder="Your name"></p><p id="greet"></p>
<h2 id="notes">Notes</h2>
<div id="log">""" + "".join(f"<div>log line {i}</div>" for i in range(40)) + """</div>
<p><button id="start">Start</button> <span id="status">Idle</span></p>
<script>
document.getElementById('size').addEventListener('change',e=>{document.getElementById('preview').textContent='Size: '+e.target.value;});
const help=document.getElementById('help'), tip=document.getElementById('tip');
help.addEventListener('mouseenter',()=>tip.hidden=false); help.addEventListener('mouseleave',()=>tip.hidden=true);
document.getElementById('name').addEventListener('keydown',e=>{if(e.key==='Enter') document.getElementById('greet').textContent='Hello, '+e.target.value+'!';});
document.getElementById('notes').addEventListener('dblclick',e=>{e.target.textContent='Editing notes';});
document.getElementById('start').addEventListener('click',()=>{const s=document.getElementById('status'); s.textContent='Starting';
  setTimeout(()=>{s.textContent='Ready';},1500);});
</script></body></html>"""


SETTINGS_ACTIONS = [
    {"type": "select", "description": "Choose 'Large' in the size dropdown", "text": "Large",
     "target": {"role": "combobox", "name": "Size", "selector": "#size"}, "assertion": 'The preview shows "Size: Large"'},
    {"type": "hover", "description": "Hover over the help icon", "target": {"text": "?", "selector": "#help"},
     "assertion": 'A tooltip appears with "Need help?"'},
    {"type": "type", "description": "Type 'Ann' into the name field", "text": "Ann",
     "target": {"role": "textbox", "name": "Your name", "selector": "#name"}},
    {"type": "press", "description": "Press Enter", "key": "Enter", "assertion": 'The greeting shows "Hello, Ann!"'},
    {"type": "dblclick", "description": "Double-click the 'Notes' heading", "target": {"role": "heading", "name": "Notes"},
     "assertion": 'The heading shows "Editing notes"'},
    {"type": "scroll", "description": "Scroll down the log panel", "target": {"selector": "#log"}, "direction": "down",
     "amount": 200, "visual_check": True},
    {"type": "click", "description": "Click 'Start'", "target": {"role": "button", "name": "Start"},
     "assertion": 'The status shows "Starting"'},
    {"type": "wait", "description": "Wait one second", "amount": 1, "assertion": 'The status shows "Ready"'},
]


# the tooltip pushes the page down while shown: the judge must re-aim after the pointer leaves it
SETTINGS_SHIFT = SETTINGS.replace("#tip{position:absolute;left:50px;top:140px;", "#tip{")


def judge(run, browser, task, html, tmp_path=None, **kw):
    config = kw.pop("config", OFFLINE)
    return run(judge_page(task, html, browser=browser, config=config, artifacts=tmp_path, **kw))


def verdicts(result) -> list:
    return [(s["passed"], s["rung"], s["verdict_source"]) for s in result["steps"]]


