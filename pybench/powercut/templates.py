"""The HTML report's page and pieces, as format strings (report.py fills them)."""

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>pybench power-cut campaign: {title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }}
h1 {{ font-size: 1.4em; }} h2 {{ font-size: 1.15em; margin-top: 1.5em; }}
table {{ border-collapse: collapse; font-size: 0.9em; }}
td, th {{ border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: left;
          vertical-align: top; }}
th {{ background: #f0f0f0; }}
code, pre {{ font-family: ui-monospace, monospace; font-size: 0.85em; }}
pre {{ background: #f7f7f7; padding: 0.5em; max-height: 20em; overflow: auto; }}
.ok {{ color: #1a7f37; }} .bad {{ color: #c62828; font-weight: bold; }}
.legend span {{ display: inline-block; margin-right: 1em; }}
.sw {{ display: inline-block; width: 0.9em; height: 0.9em; vertical-align: middle;
       margin-right: 0.3em; }}
</style></head><body>
<h1>Power-cut campaign: {title}</h1>
<p class="{status_class}">{status}</p>
<h2>Settings</h2>
<table>{settings}</table>
<h2>Verdicts</h2>
<table>{summary}</table>
<h2>Cuts along the update</h2>
<p class="legend">{legend}</p>
{svg}
<h2>Failures</h2>
{failures}
</body></html>
"""

SETTING_ROW = "<tr><th>{name}</th><td><code>{value}</code></td></tr>"

SUMMARY_ROW = "<tr><th>{name}</th><td>{value}</td></tr>"

LEGEND_ITEM = '<span><span class="sw" style="background:{colour}"></span>{name}</span>'

FAILURE_TABLE = """<table>
<tr><th>cut</th><th>phase</th><th>verdict</th><th>why</th><th>replay</th><th>flash</th></tr>
{rows}
</table>"""

FAILURE_ROW = """<tr><td><code>{cut}</code></td><td>{phase}</td><td class="bad">{verdict}</td>
<td>{reason}</td><td><code>{repro}</code>
<details><summary>UART log</summary><pre>{uart}</pre></details></td><td>{flash}</td></tr>"""

NO_FAILURES = '<p class="ok">none: every cut recovered.</p>'

SVG = """<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"
 viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">
{bands}
{axis}
{marks}
</svg>"""

BAND = ('<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{h}" fill="{colour}" '
        'opacity="0.35"><title>{title}</title></rect>')

MARK = ('<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="{colour}">'
        '<title>{title}</title></circle>')

TEXT = '<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}">{text}</text>'

LINE = '<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#555"/>'
