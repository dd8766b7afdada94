#!/usr/bin/env python3
"""The Flatpak manifest parses, names the app id, pins every archive by sha256,
and every local file or folder it references exists."""
import json
import os
import re
import sys

src = sys.argv[1]
path = os.path.join(src, 'flatpak', 'io.github.conceptscope.ConceptScope.json')
with open(path, encoding='utf-8') as f:
    manifest = json.load(f)

errors = []
app_id = manifest.get('id') or manifest.get('app-id')
if app_id != 'io.github.conceptscope.ConceptScope':
    errors.append(f'app id is {app_id!r}')
if manifest.get('runtime') != 'org.gnome.Platform':
    errors.append('runtime is not org.gnome.Platform')
if not re.fullmatch(r'\d+', str(manifest.get('runtime-version', ''))):
    errors.append('runtime-version is not a GNOME release number')
if manifest.get('command') != 'conceptscope':
    errors.append('command is not conceptscope')
args = manifest.get('finish-args', [])
for needed in ('--socket=wayland', '--socket=fallback-x11', '--device=dri'):
    if needed not in args:
        errors.append(f'finish-args lacks {needed}')
if not any(a.startswith('--filesystem=') and a.endswith(':ro') for a in args):
    errors.append('finish-args gives no read access to model folders')

names = []
def walk(modules, base):
    for m in modules:
        if isinstance(m, str):
            p = os.path.join(base, m)
            if not os.path.exists(p):
                errors.append(f'module file {m} is missing')
            continue
        names.append(m['name'])
        for s in m.get('sources', []):
            if isinstance(s, str) or s.get('type') in ('dir', 'file', 'patch', 'script') and 'path' in s:
                p = os.path.normpath(os.path.join(base, s if isinstance(s, str) else s['path']))
                if not os.path.exists(p):
                    errors.append(f'{m["name"]}: local source {p} is missing')
            if s.get('type') in ('archive', 'file') and 'url' in s:
                if not re.fullmatch(r'[0-9a-f]{64}', s.get('sha256', '')):
                    errors.append(f'{m["name"]}: {s["url"]} has no sha256')
        walk(m.get('modules', []), base)

walk(manifest.get('modules', []), os.path.dirname(path))
for needed in ('openblas', 'gsl', 'hdf5', 'wordnet-data', 'conceptscope'):
    if needed not in names:
        errors.append(f'no module {needed}')
if names and names[-1] != 'conceptscope':
    errors.append('the application is not the last module')

for e in errors:
    print('error:', e)
print(f'{len(names)} modules: {", ".join(names)}')
sys.exit(1 if errors else 0)
