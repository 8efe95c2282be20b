#!/usr/bin/env python3
"""make_inputs.py OUT CHECKPOINT — writes the hostile set that tests/cli/hostile_replay.sh replays.

Generated at test time (nothing big is committed), deterministic (fixed seed). Writes
OUT/<kind>/<name> files and OUT/<kind>.list with one input per line; kinds:
  ingest   .json/.csv/.abc files for `data prepare --input`
  archive  .zip/.tar/.tar.gz for `data prepare --input` (under --max-unpacked 4M)
  preset   preset files for `sweep --dry-run --preset`
  model    model files for `train --model`
  ckpt     checkpoint.safetensors files for `train --resume` (from CHECKPOINT, a real one)
"""
import io, json, os, random, struct, sys, tarfile, zipfile

out, ckpt = sys.argv[1], sys.argv[2]
rng = random.Random(25)
BODY = '|:GABc dedB|dedB dedB|c2ec B2dB|c2A2 A2BA:|'
lists = {}


def put(kind, name, data):
    d = os.path.join(out, kind)
    os.makedirs(d, exist_ok=True)
    p = os.path.join(d, name)
    with open(p, 'wb') as f:
        f.write(data if isinstance(data, bytes) else data.encode('utf-8', 'surrogatepass'))
    lists.setdefault(kind, []).append(p)


def mutate(data, n):
    b = bytearray(data)
    for _ in range(n):
        op = rng.randrange(4)
        i = rng.randrange(len(b) + 1)
        if op == 0 and b:
            b[min(i, len(b) - 1)] = rng.randrange(256)
        elif op == 1:
            b[i:i] = bytes(rng.choice(b'"\\,{}[]\n\r\x00:X|') for _ in range(rng.randrange(1, 8)))
        elif op == 2 and b:
            del b[i:i + rng.randrange(1, 16)]
        else:
            b[i:i] = b[i:i + rng.randrange(1, 64)] * rng.randrange(1, 50)
    return bytes(b)


# ---- ingest: records with hostile fields, broken syntax, encodings, and mutations ----------------
rec = {'tune_id': 1, 'setting_id': 2, 'name': 'Kesh', 'type': 'jig', 'meter': '6/8',
       'mode': 'Gmajor', 'abc': BODY}
fields = ['tune_id', 'setting_id', 'name', 'type', 'meter', 'mode', 'abc']
for f in fields:
    for big in (300000, 70000):
        r = dict(rec); r[f] = ('9' if 'id' in f else 'A') * big
        put('ingest', f'long-{f}-{big}.json', json.dumps([r, rec]))
    for v in (None, 1e308, [], '\u0000', '\udcff'):
        r = dict(rec); r[f] = v
        put('ingest', f'type-{f}-{len(lists.get("ingest", []))}.json',
            json.dumps([r], ensure_ascii=False) if not isinstance(v, str) or v != '\udcff'
            else json.dumps([r]))


def csv_of(rows, header=fields):
    q = lambda s: '"' + str(s).replace('"', '""') + '"'
    return ','.join(header) + '\n' + ''.join(','.join(q(r.get(h, '')) for h in header) + '\n' for r in rows)


for f in fields:
    r = dict(rec); r[f] = ('9' if 'id' in f else 'B') * 250000
    put('ingest', f'long-{f}.csv', csv_of([r, rec]))
put('ingest', 'unclosed.csv', 'abc,name\n"' + BODY * 100)
put('ingest', 'many-cols.csv', ','.join(f'c{i}' for i in range(20000)) + ',abc\n' + ',' * 20000 + BODY + '\n')
put('ingest', 'no-header.csv', '')
put('ingest', 'only-header.csv', 'abc\n')
put('ingest', 'crlf.csv', 'abc\r\n"' + BODY + '"\r\n\r\n')
put('ingest', 'deep.json', '[' * 100000 + ']' * 100000)
put('ingest', 'deep-obj.json', '[' + '{"a":' * 5000 + '1' + '}' * 5000 + ']')
put('ingest', 'not-array.json', '{"abc": "' + BODY + '"}')
put('ingest', 'huge-number.json', '[{"abc": "X", "tune_id": 1e999, "setting_id": -1e999}]')
put('ingest', 'bom.json', '\ufeff' + json.dumps([rec]))
put('ingest', 'utf16.json', json.dumps([rec]).encode('utf-16'))
put('ingest', 'latin1.abc', ('X:1\nT:Caf\xe9\nK:G\n' + BODY + '\n').encode('latin-1'))
put('ingest', 'binary.abc', bytes(rng.randrange(256) for _ in range(4096)))
put('ingest', 'nul.abc', b'X:1\nT:a\x00b\nK:G\n' + BODY.encode() + b'\x00\n')
put('ingest', 'long-line.abc', 'X:1\nT:t\nK:G\n' + 'A' * 300000 + '\n')
put('ingest', 'many-tunes.abc', ''.join(f'X:{i}\nT:t{i}\nK:G\n{BODY}\n\n' for i in range(5000)))
put('ingest', 'x-only.abc', 'X:\n' * 50000)
put('ingest', 'cut-utf8.abc', b'X:1\nT:\xe2\x82')
seed_json, seed_csv = json.dumps([rec] * 3).encode(), csv_of([rec] * 3).encode()
seed_abc = ('X:1\nT:Kesh\nM:6/8\nL:1/8\nK:G\n' + BODY + '\n\nX:2\nT:b\nK:D\n' + BODY + '\n').encode()
for i in range(25):
    put('ingest', f'mut-{i}.json', mutate(seed_json, rng.randrange(1, 30)))
    put('ingest', f'mut-{i}.csv', mutate(seed_csv, rng.randrange(1, 30)))
for i in range(10):
    put('ingest', f'mut-{i}.abc', mutate(seed_abc, rng.randrange(1, 30)))

# ---- archives: traversal names, links, bombs, many members, damage -------------------------------
good = ('X:1\nT:t\nK:G\n' + BODY + '\n').encode()


def tar_bytes(members, mode='w'):
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode=mode) as t:
        for ti, data in members:
            t.addfile(ti, io.BytesIO(data) if data is not None else None)
    return bio.getvalue()


def ti(name, size=0, type_=tarfile.REGTYPE, link=''):
    t = tarfile.TarInfo(name); t.size = size; t.type = type_; t.linkname = link
    return t


for name in ('../escape.abc', '../../escape.abc', '/tmp/abs-escape.abc', 'a/../../escape.abc',
             './x.abc', 'dir/', '.hidden.abc', 'x' * 300 + '.abc'):
    put('archive', f'name-{len(lists.get("archive", []))}.tar',
        tar_bytes([(ti(name, len(good)), good), (ti('ok.abc', len(good)), good)]))
put('archive', 'symlink.tar', tar_bytes([(ti('link.abc', 0, tarfile.SYMTYPE, '/etc/passwd'), None),
                                         (ti('ok.abc', len(good)), good)]))
put('archive', 'hardlink.tar', tar_bytes([(ti('hard.abc', 0, tarfile.LNKTYPE, '../../x'), None),
                                          (ti('ok.abc', len(good)), good)]))
put('archive', 'fifo.tar', tar_bytes([(ti('f.abc', 0, tarfile.FIFOTYPE), None), (ti('ok.abc', len(good)), good)]))
put('archive', 'device.tar', tar_bytes([(ti('d.abc', 0, tarfile.CHRTYPE), None), (ti('ok.abc', len(good)), good)]))
bomb = b'X:1\nK:G\n' + b'A' * (64 << 20)
put('archive', 'bomb.tar.gz', tar_bytes([(ti('bomb.abc', len(bomb)), bomb)], 'w:gz'))
z = io.BytesIO()
with zipfile.ZipFile(z, 'w', zipfile.ZIP_DEFLATED) as zf:
    zf.writestr('bomb.abc', bomb)
    zf.writestr('../zip-escape.abc', good)
put('archive', 'bomb.zip', z.getvalue())
z = io.BytesIO()
with zipfile.ZipFile(z, 'w', zipfile.ZIP_DEFLATED) as zf:
    for i in range(3000):
        zf.writestr(f'm{i}.abc', good)
put('archive', 'many.zip', z.getvalue())
put('archive', 'many-small.tar', tar_bytes([(ti(f'm{i}.abc', 1), b'X') for i in range(4000)]))
z = io.BytesIO()
with zipfile.ZipFile(z, 'w', zipfile.ZIP_DEFLATED) as zf:
    zf.writestr('ok.abc', good * 50)
    zf.writestr('r.json', json.dumps([rec] * 20))
zipped = z.getvalue()
tgz = tar_bytes([(ti('ok.abc', len(good) * 50), good * 50)], 'w:gz')
for i in range(12):
    put('archive', f'mut-{i}.zip', mutate(zipped, rng.randrange(1, 20)))
    put('archive', f'mut-{i}.tar.gz', mutate(tgz, rng.randrange(1, 20)))
put('archive', 'truncated.zip', zipped[:len(zipped) // 2])
put('archive', 'truncated.tar.gz', tgz[:len(tgz) // 2])
put('archive', 'empty.zip', b'')
nest = io.BytesIO()
with zipfile.ZipFile(nest, 'w') as zf:
    zf.writestr('inner.zip', zipped)
    zf.writestr('inner.tar.gz', tgz)
put('archive', 'nested.zip', nest.getvalue())

# ---- presets and model files ---------------------------------------------------------------------
keys = {'steps': [0, 0.5, -1, 1e12 + 1, 1e300, '5', None, [1]],
        'tokens': [0, 1e30, -5, 'x'], 'epochs': [0, 1e9, -1], 'batch': [0, 1e12, 2.5, -3, 2**31],
        'seq_len': [0, 3e9, 1.5], 'stride': [0, 1e7], 'lr': [0, -1, 1e9, float('nan')],
        'warmup': [-1, 0.5, 1e13], 'weight_decay': [-1, 1e9], 'clip': [-1, 1e12],
        'dropout': [1, -0.1, 5], 'seed': [-1, 1e300, 0.5], 'seeds': [[], [1.5], list(range(100)), 'x', [-1]]}
for k, vals in keys.items():
    for j, v in enumerate(vals):
        put('preset', f'key-{k}-{j}.json', json.dumps({'defaults': {k: v}, 'models': ['lstm-tiny']}))
shape = {'name': 'm', 'family': 'transformer', 'd_model': 16, 'n_layers': 1, 'n_heads': 2}
for k, vals in {'d_model': [0, 1e9, 2**31, 8.5, -16, '16'], 'n_layers': [2e9, 0, 1e6],
                'n_heads': [0, 3, 1e9], 'd_ff': [2**40, 0], 'max_seq_len': [1e12, 0],
                'vocab_size': [1e6, -1], 'family': ['gru', 5],
                'name': ['../../userdata', 'a/b', '..', '.x', '', 'x' * 100, 'é', 'a b', 5, None]}.items():
    for j, v in enumerate(vals):
        s = dict(shape); s[k] = v
        put('preset', f'shape-{k}-{j}.json', json.dumps({'models': [s]}))
        put('model', f'model-{k}-{j}.json', json.dumps(s))
put('model', 'huge-params.json', json.dumps({'name': 'h', 'family': 'lstm', 'd_model': 65536, 'n_layers': 4096}))
put('model', 'not-json.json', 'family: lstm')
put('model', 'array.json', '[1, 2]')
put('model', 'deep.json', '[' * 50000)
put('preset', 'many-models.json', json.dumps({'models': ['lstm-tiny'] * 5000}))
put('preset', 'too-big.json', json.dumps({'models': ['lstm-tiny'] * 200000}))
put('preset', 'many-seeds.json', json.dumps({'defaults': {'seeds': list(range(64))}, 'models': ['lstm-tiny'] * 65}))
put('preset', 'deep.json', '{"models": ' + '[' * 100000)
put('preset', 'name-escape.json', json.dumps({'name': '../../x', 'models': ['lstm-tiny']}))
put('preset', 'model-file-escape.json', json.dumps({'models': ['../../../etc/passwd.json']}))
put('preset', 'empty.json', '')
for i in range(10):
    put('preset', f'mut-{i}.json', mutate(json.dumps({'defaults': {'steps': 2, 'batch': 2}, 'models': [shape, 'lstm-tiny']}).encode(), rng.randrange(1, 20)))

# ---- checkpoints: training-state edits, header damage, truncation --------------------------------
raw = open(ckpt, 'rb').read()
n = struct.unpack('<Q', raw[:8])[0]
head, data = json.loads(raw[8:8 + n]), raw[8 + n:]
state = json.loads(head['__metadata__']['tunescale_state'])


def ck(name, st=None, head_override=None, tail=None):
    h = dict(head); h['__metadata__'] = dict(head['__metadata__'])
    if st is not None:
        h['__metadata__']['tunescale_state'] = st if isinstance(st, str) else json.dumps(st)
    if head_override: h = head_override(h)
    hb = json.dumps(h).encode(); hb += b' ' * (-len(hb) % 8)
    put('ckpt', name + '.safetensors', tail if tail is not None else struct.pack('<Q', len(hb)) + hb + data)


for f in ('step', 'train_time_s', 'tokens_seen', 'nonfinite_skipped', 'curve', 'identity'):
    s = dict(state); del s[f]; ck(f'no-{f}', s)
    for j, v in enumerate(('5', None, 1e300, 0.5)):
        s = dict(state); s[f] = v; ck(f'bad-{f}-{j}', s)
for j, curve in enumerate(([[1, 2]], [5], [[1, 2, 'x', 4, 5]], [[0] * 5] * 1000, [None], [[1, 2, 3, 4, 5, 6]])):
    s = dict(state); s['curve'] = curve; ck(f'curve-{j}', s)
ck('state-not-json', '{"step": ')
ck('state-array', '[1, 2, 3]')
ck('state-deep', '[' * 100000)
ck('truncated', tail=raw[:len(raw) // 2])
ck('header-len-huge', tail=struct.pack('<Q', 2**62) + raw[8:])
ck('header-len-short', tail=struct.pack('<Q', 4) + raw[8:])
ck('empty', tail=b'')
ck('flipped-data', tail=raw[:-10] + bytes(10))

for kind, paths in lists.items():
    with open(os.path.join(out, kind + '.list'), 'w') as f:
        f.write(''.join(p + '\n' for p in paths))
print(' '.join(f'{k}={len(v)}' for k, v in lists.items()), sum(len(v) for v in lists.values()))
