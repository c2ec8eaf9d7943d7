<?php
// Exercise PHP's Memcached class (php-memcached, built on libmemcached) against
// real memcached servers on 127.0.0.1, checking every value read.
//
// Usage:
//   php memcached_class.php functional PORTS BINARY
//   php memcached_class.php placement PORTS CONFIG
// PORTS is a comma-separated list of three ports, BINARY is 0 or 1, CONFIG is
// "ketama" (libketama-compatible, equal weights), "ketama-weighted" (weights
// 1, 2, 3) or "consistent" (consistent distribution, default hash).
//
// Both modes first print "mapped PATH" for every libmemcached* file in
// /proc/self/maps, so the caller can check which library ran.
//
// functional prints "ok - NAME" or "not ok - NAME: DETAIL" per check and exits
// 1 if any check failed. placement writes keys through the Memcached class,
// then queries each server directly (raw text protocol) for the keys it holds,
// and prints sorted "KEY PORT" lines. The caller compares them between libraries.

const HOST = '127.0.0.1';
const PREFIX = 'pfx:';
const PLACEMENT_KEYS = 300;

$failures = 0;

function check(string $name, bool $passed, string $detail = ''): void
{
    global $failures;
    if ($passed) {
        echo "ok - $name\n";
        return;
    }
    $failures++;
    echo "not ok - $name: $detail\n";
}

function check_same(string $name, $expected, $actual, ?Memcached $client = null): void
{
    $detail = 'expected ' . describe($expected) . ', got ' . describe($actual);
    if ($client !== null) {
        $detail .= ' (result ' . $client->getResultCode() . ' ' . $client->getResultMessage() . ')';
    }
    check($name, $expected === $actual, $detail);
}

function describe($value): string
{
    if (is_string($value) && strlen($value) > 60) {
        return 'string(' . strlen($value) . ') md5 ' . md5($value);
    }
    return var_export($value, true);
}

function print_mapped_libraries(): void
{
    $paths = [];
    foreach (file('/proc/self/maps') as $line) {
        $fields = preg_split('/\s+/', trim($line));
        $path = $fields[5] ?? '';
        if (preg_match('#/libmemcached[^/]*$#', $path)) {
            $paths[$path] = true;
        }
    }
    foreach (array_keys($paths) as $path) {
        echo "mapped $path\n";
    }
}

// One request on a fresh socket, bypassing libmemcached. Returns the reply
// lines up to and including the first line that starts with one of $ends.
function raw_request(int $port, string $line, array $ends): array
{
    $socket = fsockopen(HOST, $port, $errno, $errstr, 5);
    if ($socket === false) {
        throw new RuntimeException("connect to port $port failed: $errstr");
    }
    stream_set_timeout($socket, 5);
    fwrite($socket, "$line\r\n");
    $lines = [];
    while (($reply = fgets($socket)) !== false) {
        $reply = rtrim($reply, "\r\n");
        $lines[] = $reply;
        foreach ($ends as $end) {
            if (strncmp($reply, $end, strlen($end)) === 0) {
                fclose($socket);
                return $lines;
            }
        }
    }
    fclose($socket);
    throw new RuntimeException("no complete reply to '$line' from port $port");
}

function raw_has(int $port, string $key): bool
{
    return raw_request($port, "mg $key", ['HD', 'EN'])[0] === 'HD';
}

// Remaining TTL in seconds, -1 for none, null when the key is missing.
function raw_ttl(int $port, string $key): ?int
{
    $reply = raw_request($port, "mg $key t", ['HD', 'EN'])[0];
    if (!preg_match('/^HD t(-?\d+)/', $reply, $match)) {
        return null;
    }
    return (int) $match[1];
}

function raw_port_of(array $ports, string $key): array
{
    return array_values(array_filter($ports, fn ($port) => raw_has($port, $key)));
}

function flush_all(array $ports): void
{
    foreach ($ports as $port) {
        raw_request($port, 'flush_all', ['OK']);
    }
}

function new_client(array $ports, bool $binary): Memcached
{
    $client = new Memcached();
    $client->setOption(Memcached::OPT_BINARY_PROTOCOL, $binary);
    $client->setOption(Memcached::OPT_DISTRIBUTION, Memcached::DISTRIBUTION_CONSISTENT);
    $client->setOption(Memcached::OPT_LIBKETAMA_COMPATIBLE, true);
    $client->setOption(Memcached::OPT_CONNECT_TIMEOUT, 2000);
    $client->setOption(Memcached::OPT_POLL_TIMEOUT, 2000);
    $client->addServers(array_map(fn ($port) => [HOST, $port], $ports));
    return $client;
}

function test_storage(Memcached $client, array $ports, bool $binary): void
{
    $binary_value = "\0\r\nEND\r\n\xff" . str_repeat("\x80\x01", 100);
    check_same('set string', true, $client->set('str', 'hello world'), $client);
    check_same('get string', 'hello world', $client->get('str'), $client);
    check_same('set binary bytes', true, $client->set('bin', $binary_value), $client);
    check_same('get binary bytes', $binary_value, $client->get('bin'), $client);
    check_same('set int', true, $client->set('int', 42), $client);
    check_same('get int', 42, $client->get('int'), $client);
    check_same('set array', true, $client->set('arr', ['a' => 1, 'b' => [2, 3]]), $client);
    check_same('get array', ['a' => 1, 'b' => [2, 3]], $client->get('arr'), $client);

    // 300 KB of incompressible bytes, then 300 KB that php-memcached compresses.
    $random = random_bytes(300000);
    check_same('set 300KB random', true, $client->set('big-random', $random), $client);
    check_same('get 300KB random', $random, $client->get('big-random'), $client);
    $repetitive = str_repeat('compress me ', 25000);
    check_same('set 300KB compressible', true, $client->set('big-text', $repetitive), $client);
    check_same('get 300KB compressible', $repetitive, $client->get('big-text'), $client);

    check_same('get missing', false, $client->get('missing'), $client);
    check_same('get missing code', Memcached::RES_NOTFOUND, $client->getResultCode());
    check_same('key on one server', 1, count(raw_port_of($ports, 'str')));

    check_same('add new', true, $client->add('added', 'first'), $client);
    check_same('add existing', false, $client->add('added', 'second'), $client);
    // The binary protocol reports a failed add as "exists" and a failed replace
    // as "not found", but the text protocol has only NOT_STORED for both.
    check_same('add existing code', $binary ? Memcached::RES_DATA_EXISTS : Memcached::RES_NOTSTORED, $client->getResultCode());
    check_same('value after add', 'first', $client->get('added'), $client);
    check_same('replace existing', true, $client->replace('added', 'replaced'), $client);
    check_same('value after replace', 'replaced', $client->get('added'), $client);
    check_same('replace missing', false, $client->replace('never-set', 'x'), $client);
    check_same('replace missing code', $binary ? Memcached::RES_NOTFOUND : Memcached::RES_NOTSTORED, $client->getResultCode());
    check_same('get after failed replace', false, $client->get('never-set'), $client);

    check_same('delete existing', true, $client->delete('added'), $client);
    check_same('get deleted', false, $client->get('added'), $client);
    check_same('get deleted code', Memcached::RES_NOTFOUND, $client->getResultCode());
    check_same('delete missing', false, $client->delete('added'), $client);
    check_same('delete missing code', Memcached::RES_NOTFOUND, $client->getResultCode());
}

function test_append_prepend(Memcached $client): void
{
    // php-memcached rejects append/prepend while compression is on.
    $client->setOption(Memcached::OPT_COMPRESSION, false);
    check_same('set base', true, $client->set('text', 'middle'), $client);
    check_same('append', true, $client->append('text', '-end'), $client);
    check_same('prepend', true, $client->prepend('text', 'start-'), $client);
    check_same('get appended', 'start-middle-end', $client->get('text'), $client);
    check_same('append missing', false, $client->append('no-text', 'x'), $client);
    check_same('append missing code', Memcached::RES_NOTSTORED, $client->getResultCode());
    check_same('prepend missing', false, $client->prepend('no-text', 'x'), $client);
    check_same('get after failed append', false, $client->get('no-text'), $client);
    $client->setOption(Memcached::OPT_COMPRESSION, true);
}

function test_counters(Memcached $client, bool $binary): void
{
    check_same('set counter', true, $client->set('counter', 10), $client);
    check_same('increment by 1', 11, $client->increment('counter'), $client);
    check_same('increment by 5', 16, $client->increment('counter', 5), $client);
    check_same('decrement by 3', 13, $client->decrement('counter', 3), $client);
    check_same('decrement below zero', 0, $client->decrement('counter', 100), $client);
    check_same('get counter', 0, $client->get('counter'), $client);
    check_same('increment large', 4294967296, $client->increment('counter', 4294967296), $client);
    check_same('increment missing', false, $client->increment('no-counter'), $client);
    check_same('increment missing code', Memcached::RES_NOTFOUND, $client->getResultCode());
    check_same('decrement missing', false, $client->decrement('no-counter'), $client);
    check_same('increment non-number', false, $client->increment('str', 1), $client);

    // An initial value is only sent by the binary protocol; php-memcached
    // rejects it on text connections.
    if ($binary) {
        check_same('increment with initial', 7, $client->increment('init-counter', 1, 7), $client);
        check_same('increment after initial', 8, $client->increment('init-counter', 1, 7), $client);
        check_same('decrement with initial', 3, $client->decrement('init-dec', 1, 3), $client);
    }
}

function test_cas(Memcached $client): void
{
    check_same('set for cas', true, $client->set('cas-key', 'v1'), $client);
    $item = $client->get('cas-key', null, Memcached::GET_EXTENDED);
    check('get extended returns array', is_array($item), describe($item));
    if (!is_array($item)) {
        return;
    }
    check_same('get extended value', 'v1', $item['value']);
    check('get extended cas nonzero', $item['cas'] != 0, describe($item['cas']));
    check_same('cas with current token', true, $client->cas($item['cas'], 'cas-key', 'v2'), $client);
    check_same('value after cas', 'v2', $client->get('cas-key'), $client);
    check_same('cas with stale token', false, $client->cas($item['cas'], 'cas-key', 'v3'), $client);
    check_same('cas stale code', Memcached::RES_DATA_EXISTS, $client->getResultCode());
    check_same('value after stale cas', 'v2', $client->get('cas-key'), $client);

    $items = $client->getMulti(['cas-key', 'str', 'missing'], Memcached::GET_EXTENDED);
    check('getMulti extended returns array', is_array($items), describe($items));
    if (!is_array($items)) {
        return;
    }
    ksort($items);
    check_same('getMulti extended keys', ['cas-key', 'str'], array_keys($items));
    check_same('getMulti extended value', 'v2', $items['cas-key']['value'] ?? null);
    $token = $items['cas-key']['cas'] ?? 0;
    check_same('cas with getMulti token', true, $client->cas($token, 'cas-key', 'v4'), $client);
    check_same('value after getMulti cas', 'v4', $client->get('cas-key'), $client);
    check_same('cas on deleted key', true, $client->delete('cas-key'), $client);
    check_same('cas after delete', false, $client->cas($token, 'cas-key', 'v5'), $client);
    check_same('cas after delete code', Memcached::RES_NOTFOUND, $client->getResultCode());
}

function test_multi(Memcached $client, array $ports): void
{
    $items = [];
    for ($i = 0; $i < 50; $i++) {
        $items["multi-$i"] = "value-$i-" . str_repeat('x', $i * 37);
    }
    check_same('setMulti', true, $client->setMulti($items), $client);
    $spread = [];
    foreach (array_keys($items) as $key) {
        foreach (raw_port_of($ports, $key) as $port) {
            $spread[$port] = true;
        }
    }
    check_same('setMulti spread over servers', count($ports), count($spread));

    $keys = array_merge(array_keys($items), ['multi-missing-1', 'multi-missing-2']);
    $found = $client->getMulti($keys);
    check('getMulti returns array', is_array($found), describe($found));
    if (is_array($found)) {
        ksort($found);
        $expected = $items;
        ksort($expected);
        check_same('getMulti values', $expected, $found, $client);
    }
    $ordered = $client->getMulti(['multi-3', 'multi-missing-1', 'multi-1'], Memcached::GET_PRESERVE_ORDER);
    check_same(
        'getMulti preserve order',
        ['multi-3' => $items['multi-3'], 'multi-missing-1' => null, 'multi-1' => $items['multi-1']],
        $ordered,
        $client
    );

    check_same('getDelayed', true, $client->getDelayed(['multi-0', 'multi-7', 'multi-missing-1']), $client);
    $fetched = [];
    while (($row = $client->fetch()) !== false) {
        $fetched[$row['key']] = $row['value'];
    }
    ksort($fetched);
    check_same('fetch after getDelayed', ['multi-0' => $items['multi-0'], 'multi-7' => $items['multi-7']], $fetched);

    $deleted = $client->deleteMulti(['multi-0', 'multi-1', 'multi-missing-1']);
    check_same('deleteMulti present', true, $deleted['multi-0'] ?? null);
    check_same('deleteMulti missing', Memcached::RES_NOTFOUND, $deleted['multi-missing-1'] ?? null);
    check_same('get after deleteMulti', false, $client->get('multi-1'), $client);
    check_same('neighbour survives deleteMulti', $items['multi-2'], $client->get('multi-2'), $client);
}

function test_touch(Memcached $client, array $ports): void
{
    check_same('set without expiry', true, $client->set('touched', 't'), $client);
    $port = raw_port_of($ports, 'touched')[0] ?? null;
    check('touched key on a server', $port !== null);
    if ($port === null) {
        return;
    }
    check_same('ttl before touch', -1, raw_ttl($port, 'touched'));
    check_same('touch', true, $client->touch('touched', 500), $client);
    $ttl = raw_ttl($port, 'touched');
    check('ttl after touch', $ttl !== null && $ttl > 490 && $ttl <= 500, describe($ttl));
    check_same('value after touch', 't', $client->get('touched'), $client);
    check_same('touch missing', false, $client->touch('never-touched', 500), $client);
    check_same('touch missing code', Memcached::RES_NOTFOUND, $client->getResultCode());
    check_same('set with expiry', true, $client->set('expiring', 'e', 300), $client);
    $ttl = raw_ttl(raw_port_of($ports, 'expiring')[0] ?? $port, 'expiring');
    check('ttl of set with expiry', $ttl !== null && $ttl > 290 && $ttl <= 300, describe($ttl));
}

function test_prefix(array $ports, bool $binary): void
{
    $client = new_client($ports, $binary);
    $client->setOption(Memcached::OPT_PREFIX_KEY, PREFIX);
    check_same('prefix option', PREFIX, $client->getOption(Memcached::OPT_PREFIX_KEY));
    check_same('set with prefix', true, $client->set('pkey', 'prefixed'), $client);
    check_same('get with prefix', 'prefixed', $client->get('pkey'), $client);
    check_same('stored under prefixed key', 1, count(raw_port_of($ports, PREFIX . 'pkey')));
    check_same('not stored under bare key', 0, count(raw_port_of($ports, 'pkey')));
    check_same('setMulti with prefix', true, $client->setMulti(['pa' => 'A', 'pb' => 'B']), $client);
    $found = $client->getMulti(['pa', 'pb']);
    if (is_array($found)) {
        ksort($found);
    }
    check_same('getMulti with prefix', ['pa' => 'A', 'pb' => 'B'], $found, $client);
    check_same('increment with prefix', true, $client->set('pcount', 1), $client);
    check_same('increment prefixed value', 2, $client->increment('pcount'), $client);
    check_same('delete with prefix', true, $client->delete('pa'), $client);
    check_same('prefixed key deleted', 0, count(raw_port_of($ports, PREFIX . 'pa')));

    // The prefix is not hashed (OPT_HASH_WITH_PREFIX_KEY is off), so the
    // prefixed key lives on the server chosen for the bare key.
    $plain = new_client($ports, $binary);
    $server = $plain->getServerByKey('pb');
    check_same('prefixed key on bare key server', [$server['port'] ?? null], raw_port_of($ports, PREFIX . 'pb'));
    check_same('getByKey reads prefixed key', 'B', $plain->getByKey('pb', PREFIX . 'pb'), $plain);
}

function test_servers(Memcached $client, array $ports): void
{
    $expected_version = raw_request($ports[0], 'version', ['VERSION'])[0];
    $expected_version = substr($expected_version, strlen('VERSION '));

    $list = $client->getServerList();
    check_same('getServerList count', count($ports), count($list));
    foreach ($ports as $i => $port) {
        check_same("getServerList host $i", HOST, $list[$i]['host'] ?? null);
        check_same("getServerList port $i", $port, $list[$i]['port'] ?? null);
    }
    $by_key = $client->getServerByKey('str');
    check('getServerByKey', is_array($by_key) && in_array($by_key['port'] ?? 0, $ports, true), describe($by_key));
    if (is_array($by_key)) {
        check_same('getServerByKey matches storage', raw_port_of($ports, 'str'), [$by_key['port']]);
    }

    $versions = $client->getVersion();
    check('getVersion returns array', is_array($versions), describe($versions));
    $stats = $client->getStats();
    check('getStats returns array', is_array($stats), describe($stats));
    foreach ($ports as $port) {
        $name = HOST . ":$port";
        check_same("getVersion $name", $expected_version, $versions[$name] ?? null);
        $bad_names = array_filter(array_keys($stats[$name] ?? []), fn ($key) => !preg_match('/^[a-z0-9_:.]+$/', $key));
        check(
            "getStats stat names $name",
            count($bad_names) === 0,
            count($bad_names) . ' names are not plain stat names, first: ' . '"' . addcslashes(substr((string) reset($bad_names), 0, 40), "\0..\37\177..\377") . '"'
        );
        $raw_pid = null;
        foreach (raw_request($port, 'stats', ['END']) as $line) {
            if (preg_match('/^STAT pid (\d+)$/', $line, $match)) {
                $raw_pid = (int) $match[1];
            }
        }
        check_same("getStats pid $name", $raw_pid, $stats[$name]['pid'] ?? null);
        check_same("getStats version $name", $expected_version, $stats[$name]['version'] ?? null);
        check('getStats curr_items ' . $name, ($stats[$name]['curr_items'] ?? -1) >= 0);
    }

    check_same('quit', true, $client->quit());
    check_same('set after quit', true, $client->set('after-quit', 'back'), $client);
    check_same('get after quit', 'back', $client->get('after-quit'), $client);
}

function run_functional(array $ports, bool $binary): void
{
    flush_all($ports);
    $client = new_client($ports, $binary);
    check_same('binary option', $binary, (bool) $client->getOption(Memcached::OPT_BINARY_PROTOCOL));
    // libketama compatibility switches the distribution to
    // MEMCACHED_DISTRIBUTION_CONSISTENT_WEIGHTED (5), which has no PHP constant.
    check_same('libketama option', true, (bool) $client->getOption(Memcached::OPT_LIBKETAMA_COMPATIBLE));
    check_same('distribution option', 5, $client->getOption(Memcached::OPT_DISTRIBUTION));
    test_storage($client, $ports, $binary);
    test_append_prepend($client);
    test_counters($client, $binary);
    test_cas($client);
    test_multi($client, $ports);
    test_touch($client, $ports);
    test_prefix($ports, $binary);
    test_servers($client, $ports);
    check_same('flush', true, $client->flush(), $client);
    check_same('get after flush', false, $client->get('str'), $client);
}

function run_placement(array $ports, string $config): void
{
    flush_all($ports);
    $client = new Memcached();
    $client->setOption(Memcached::OPT_DISTRIBUTION, Memcached::DISTRIBUTION_CONSISTENT);
    $weights = [1, 1, 1];
    if ($config === 'ketama' || $config === 'ketama-weighted') {
        $client->setOption(Memcached::OPT_LIBKETAMA_COMPATIBLE, true);
    } elseif ($config !== 'consistent') {
        throw new InvalidArgumentException("unknown placement config '$config'");
    }
    if ($config === 'ketama-weighted') {
        $weights = [1, 2, 3];
    }
    $client->setOption(Memcached::OPT_PREFIX_KEY, PREFIX);
    foreach ($ports as $i => $port) {
        $client->addServer(HOST, $port, $weights[$i]);
    }

    $lines = [];
    for ($i = 0; $i < PLACEMENT_KEYS; $i++) {
        $key = "place-$i";
        if (!$client->set($key, "v$i")) {
            throw new RuntimeException("set $key failed: " . $client->getResultMessage());
        }
        $found = raw_port_of($ports, PREFIX . $key);
        $lines[] = PREFIX . "$key " . (count($found) === 1 ? $found[0] : 'on ' . count($found) . ' servers');
    }
    sort($lines);
    echo implode("\n", $lines), "\n";
}

function main(array $argv): int
{
    global $failures;
    if (count($argv) !== 4) {
        fwrite(STDERR, "usage: php memcached_class.php functional|placement PORTS BINARY|CONFIG\n");
        return 2;
    }
    $ports = array_map('intval', explode(',', $argv[2]));
    print_mapped_libraries();
    if ($argv[1] === 'functional') {
        run_functional($ports, $argv[3] === '1');
        echo "php functional: $failures failed\n";
        return $failures === 0 ? 0 : 1;
    }
    if ($argv[1] === 'placement') {
        run_placement($ports, $argv[3]);
        return 0;
    }
    fwrite(STDERR, "unknown mode '{$argv[1]}'\n");
    return 2;
}

exit(main($argv));
