#!/usr/bin/env python3
"""Writes the tokenizer corpus (one text per line, UTF-8): varied lines that
real users feed a tokenizer. Deterministic (seeded), so rerunning it gives the
same file. Usage: make-corpus.py OUT.txt

Kinds of line: WordNet glosses (/usr/share/wordnet), licence paragraphs
(/usr/share/common-licenses), C source lines (/usr/include), numbers and
dates, whitespace runs (spaces, tabs, mixed), accented Latin, Greek,
Cyrillic, CJK, Arabic, emoji, the whitespace-like characters on which regex
engines differ (U+0085, U+00A0, U+180E, U+2000-U+200A, U+2028, U+FEFF, ...),
a literal U+2581 at the start, special-token look-alikes, and one 20 KB line.
"""
import glob
import random
import sys

rng = random.Random(20261205)
lines = []

# WordNet glosses
for path in ['/usr/share/wordnet/data.noun', '/usr/share/wordnet/data.verb', '/usr/share/wordnet/data.adj']:
    with open(path, encoding='latin-1') as f:
        glosses = [l.split(' | ', 1)[1].strip() for l in f if ' | ' in l and not l.startswith('  ')]
    lines += rng.sample(glosses, 400)

# licence paragraphs (whole paragraphs as one line, and some as they are wrapped)
paras = []
for path in sorted(glob.glob('/usr/share/common-licenses/*')):
    try:
        text = open(path, encoding='utf-8').read()
    except (UnicodeDecodeError, IsADirectoryError):
        continue
    for p in text.split('\n\n'):
        p = p.strip('\n')
        if p.strip():
            paras.append(p)
sample = rng.sample(paras, 300)
lines += [' '.join(p.split('\n')) for p in sample[:200]]     # joined, inner indentation kept
lines += [p.split('\n')[0] for p in sample[200:]]             # first wrapped line, leading spaces kept

# source code lines (indentation, operators, braces)
code = []
for path in sorted(glob.glob('/usr/include/glib-2.0/glib/*.h'))[:40]:
    for l in open(path, encoding='utf-8', errors='replace'):
        l = l.rstrip('\n')
        if l.strip() and '\ufffd' not in l:
            code.append(l)
lines += rng.sample(code, 400)

# numbers, dates, money, versions
for _ in range(200):
    k = rng.randrange(6)
    if k == 0:
        lines.append(str(rng.randrange(10 ** rng.randrange(1, 25))))
    elif k == 1:
        lines.append(f'{rng.uniform(-1e6, 1e6):.{rng.randrange(0, 9)}f}')
    elif k == 2:
        lines.append(f'{rng.randrange(1900, 2100)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}T{rng.randrange(24):02d}:{rng.randrange(60):02d}')
    elif k == 3:
        lines.append(f'${rng.randrange(1, 10**7):,}.{rng.randrange(100):02d} ({rng.uniform(0, 100):.1f}%)')
    elif k == 4:
        lines.append('v' + '.'.join(str(rng.randrange(40)) for _ in range(rng.randrange(2, 5))))
    else:
        lines.append(' '.join(str(rng.randrange(10 ** rng.randrange(1, 8))) for _ in range(rng.randrange(2, 12))))

# whitespace runs
ws = [' ', '  ', '   ', '    ', '\t', '\t\t', ' \t', '        ', '\u3000', '\u00a0']
words = ['alpha', 'beta', 'gamma', 'x', 'if', 'return', '42', '(', ')', ';', 'é', 'naïve']
for _ in range(250):
    parts = []
    if rng.random() < 0.4:
        parts.append(rng.choice(ws) * rng.randrange(1, 4))
    for _ in range(rng.randrange(1, 10)):
        parts.append(rng.choice(words))
        parts.append(rng.choice(ws) * rng.randrange(1, 4))
    if rng.random() < 0.5:
        parts.pop()
    lines.append(''.join(parts))

def script_words(alphabet, n, lo=1, hi=9):
    return ' '.join(''.join(rng.choice(alphabet) for _ in range(rng.randrange(lo, hi))) for _ in range(n))

accented = 'àáâäãåçèéêëìíîïñòóôöõøùúûüýÿœæßÀÉÎÖÜÇŁłŚśŻżĆćŃńĘęĄąŠšŽžČčŘřŮůĞğİıŞş' + 'abcdefghijklmnopqrstuvwxyz'
greek = 'αβγδεζηθικλμνξοπρστυφχψωάέήίόύώΑΒΓΔΕΘΛΞΠΣΦΨΩ'
cyrillic = 'абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЖЗИКЛМНОПРСТУФХЦЧШЩЭЮЯ'
cjk = '的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明其种声全工己话儿者向情部正名定女问力机给等几很业最间新什打便位因重被走电四第门相次东政海口使教西再平真听世气信北少关并内加化由却代军产入先山五太水万市眼体别处总才场师书比住员九笑性通目华报立马命张活难神数件安表原车白应路期叫死常提感金何更反合放做系计或司利受光王果亲界及今京务制解各任至清物台象记边共风战干接它许八特觉望直服毛林题建南度统色字请交爱让认算论百吃义科怎元社术结六功指思非流每青管夫连远资队跟带花快条院变联言权往展该领传近留红治决周保达办运武半候七必城父强步完革深区即求品士转量空甚众技轻程告江语英基派满式李息写呢识极令黄德收脸钱党倒未持取设始版双历越史商千片容研像找友孩站广改议形委早房音火际则首单据导影失拿网香似斯专石若兵弟谁校读志飞观争究包组造落视济喜离虽坐集编宝谈府拉黑且随格尽剑讲布杀微怕母调局根曾准团段终乐切级克精哪官示冷域读脑' + 'あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをんアイウエオカキクケコサシスセソ' + '한국어가나다라마바사아자차카타파하'
arabic = 'ابتثجحخدذرزسشصضطظعغفقكلمنهويءآأؤإئةى'
emoji = ['😀', '👍', '🎉', '❤️', '🇫🇷', '👩‍💻', '🧬', '🚀', '✨', '🤖', '👨‍👩‍👧‍👦', '🏳️‍🌈', '☕', '🐍', '1️⃣']
for alphabet, n in [(accented, 150), (greek, 120), (cyrillic, 120), (cjk, 150), (arabic, 120)]:
    for _ in range(n):
        if alphabet is cjk:
            lines.append(''.join(rng.choice(cjk) for _ in range(rng.randrange(3, 60))) + rng.choice(['。', '、', '！', '？', '']))
        else:
            lines.append(script_words(alphabet, rng.randrange(1, 14)))
for _ in range(150):
    parts = []
    for _ in range(rng.randrange(1, 10)):
        parts.append(rng.choice(emoji + ['hello', 'ok', '!!', '...', 'fine']))
    lines.append(rng.choice([' ', '', '  ']).join(parts))

# characters whose "white space" class differs between regex engines, and
# other oddities: each alone, between words, at both ends, in runs
odd = ['\u0085', '\u00a0', '\u1680', '\u180e', '\u2000', '\u2005', '\u200a', '\u200b', '\u2028', '\u2029',
       '\u202f', '\u205f', '\u3000', '\ufeff', '\u000b', '\u000c', '\u001c', '\u001f']
for c in odd:
    lines.append(f'word{c}word')
    lines.append(f'{c}start and end{c}')
    lines.append(f'a {c} b {c}{c} c')
    lines.append(f'{c}{c}{c}')
    lines.append(f'x{c} 12{c}34 {c}!')
# a literal ▁ (U+2581), which SentencePiece-style tokenizers use for spaces
lines += ['\u2581starts with the space mark', '\u2581\u2581two marks', 'in\u2581the\u2581middle', ' \u2581space then mark',
          '\u2581', 'end mark\u2581']
# special-token look-alikes and markup
lines += ['<s>hello</s>', '<|endoftext|> after', 'before <|endoftext|>', '<|begin_of_text|>Hi', '<unk> <0x0A> <pad>',
          '<|eot_id|><|start_header_id|>user<|end_header_id|>', '[INST] hi [/INST]', '<div class="x">a &amp; b</div>',
          "don't can't I'M YOU'RE we'll they'd it's O'Neil's", 'https://example.org/a/b?c=1&d=%20#frag', 'foo@bar.com']

rng.shuffle(lines)
# one 20 KB line of mixed text
long = []
while sum(len(s) + 1 for s in long) < 20000:
    long.append(rng.choice(lines[:500]))
lines.append(' '.join(long)[:20000])

lines = [l for l in lines if '\n' not in l and '\r' not in l and l != '']
with open(sys.argv[1], 'w', encoding='utf-8', newline='\n') as f:
    for l in lines:
        f.write(l + '\n')
print(f'{sys.argv[1]}: {len(lines)} lines, {sum(len(l.encode()) for l in lines)} bytes')
