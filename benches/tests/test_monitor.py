"""MONITOR lines back into commands, and captured commands into templates and back."""

import hashlib
import unittest

from bench.monitor import _MONITOR_LINE, Capture, Scripts, digest, parse_monitor_args, templated


class ParseMonitorArgs(unittest.TestCase):
    def test_plain_arguments(self):
        self.assertEqual(parse_monitor_args('"SET" "user:1" "x"'), [b"SET", b"user:1", b"x"])

    def test_escaped_quote_backslash_and_newline(self):
        self.assertEqual(parse_monitor_args(r'"SET" "k" "a\"b\\c\nd"'), [b"SET", b"k", b'a"b\\c\nd'])

    def test_hex_escape_is_one_byte(self):
        # Redis renders any byte it cannot print as \xHH; UTF-8 text arrives as its bytes.
        self.assertEqual(parse_monitor_args(r'"SET" "k" "\x00\xc3\xa9"'), [b"SET", b"k", b"\x00\xc3\xa9"])

    def test_empty_argument(self):
        self.assertEqual(parse_monitor_args('"GET" ""'), [b"GET", b""])


class MonitorLine(unittest.TestCase):
    def test_client_and_command(self):
        m = _MONITOR_LINE.match('1732900000.123456 [0 127.0.0.1:51234] "GET" "user:7"')
        self.assertEqual(m.group(1), "127.0.0.1:51234")
        self.assertEqual(parse_monitor_args(m.group(2)), [b"GET", b"user:7"])

    def test_command_inside_a_script_names_lua(self):
        m = _MONITOR_LINE.match('1732900000.123456 [0 lua] "INCR" "user_id_counter"')
        self.assertEqual(m.group(1), "lua")

    def test_other_lines_do_not_match(self):
        self.assertIsNone(_MONITOR_LINE.match("OK"))


class Templates(unittest.TestCase):
    def test_digest_is_unpadded_base64url_of_sha256(self):
        # SHA-256("abc") = ba7816bf...; its base64url without the trailing "=".
        self.assertEqual(digest("abc"), b"ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0")

    def test_a_user_id_is_replaced_only_where_it_stands_alone(self):
        got = templated([[b"EVALSHA", b"user:7373", b"a7373b", b"17373", b"7373"]], uid=7373)
        self.assertEqual(got, [[b"EVALSHA", b"user:{uid}", b"a7373b", b"17373", b"{uid}"]])

    def test_the_command_name_is_never_replaced(self):
        self.assertEqual(templated([[b"7", b"7"]], uid=7), [[b"7", b"{uid}"]])

    def test_a_token_and_its_digest_get_placeholders(self):
        tok = "tok-ABC"
        got = templated([[b"GET", b"hashed_session:" + digest(tok), b"session:" + tok.encode()]], tok=tok)
        self.assertEqual(got, [[b"GET", b"hashed_session:{tok#sha256}", b"session:{tok}"]])

    def test_render_undoes_templated_for_other_values(self):
        old, new = "tok-old", "tok-new"
        cap = Capture(templated([[b"MGET", b"h:" + digest(old), b"s:" + old.encode(), b"user:12"]], tok=old, uid=12))
        self.assertEqual(cap.render(tok=new, uid=99),
                         [[b"MGET", b"h:" + digest(new), b"s:" + new.encode(), b"user:99"]])

    def test_render_can_be_given_a_digest_as_it_is(self):
        # wrk cannot compute a digest: the probe is handed a placeholder, or a file, of digests.
        cap = Capture([[b"EVALSHA", b"s", b"1", b"session_record:{tok#sha256}", b"{uid}"]])
        self.assertEqual(cap.render(digests={"tok": "__D__"}, tok="__D__", uid=4),
                         [[b"EVALSHA", b"s", b"1", b"session_record:__D__", b"4"]])

    def test_carries_tells_a_value_itself_from_its_digest(self):
        tok = "tok-ABC"
        only_digest = Capture(templated([[b"GET", b"session_record:" + digest(tok)]], tok=tok))
        both = Capture(templated([[b"MGET", b"session_record:" + digest(tok), b"session:" + tok.encode()]], tok=tok))
        self.assertFalse(only_digest.carries("tok"))
        self.assertTrue(both.carries("tok"))
        self.assertFalse(Capture([[b"{tok}"]]).carries("tok"), "the command name is not an argument")

    def test_describe_shortens_a_script_sha(self):
        cap = Capture([[b"EVALSHA", b"0123456789abcdef", b"1", b"user:{uid}"]])
        self.assertEqual(cap.describe(), "EVALSHA 0123456789… 1 user:{uid}")
        self.assertEqual(Capture([]).describe(), "(no Redis command)")


class ScriptsSeen(unittest.TestCase):
    body = b"return redis.call('GET', KEYS[1])"
    sha = hashlib.sha1(body).hexdigest().encode()

    def test_eval_becomes_evalsha_of_its_body(self):
        scripts = Scripts()
        self.assertEqual(scripts.normalise([[b"EVAL", self.body, b"1", b"k"]]), [[b"EVALSHA", self.sha, b"1", b"k"]])
        self.assertEqual(scripts.bodies, {self.sha.decode(): self.body})

    def test_a_failed_evalsha_and_its_eval_fallback_are_one_command(self):
        seen = [[b"EVALSHA", self.sha, b"1", b"k"], [b"EVAL", self.body, b"1", b"k"]]
        self.assertEqual(Scripts().normalise(seen), [[b"EVALSHA", self.sha, b"1", b"k"]])

    def test_script_load_only_teaches_a_body(self):
        scripts = Scripts()
        self.assertEqual(scripts.normalise([[b"SCRIPT", b"LOAD", self.body], [b"EVALSHA", self.sha, b"0"]]),
                         [[b"EVALSHA", self.sha, b"0"]])
        scripts.check([[b"EVALSHA", self.sha, b"0"]])

    def test_a_script_whose_body_was_never_seen_is_refused(self):
        with self.assertRaises(RuntimeError):
            Scripts().check([[b"EVALSHA", self.sha, b"0"]])

    def test_redis_functions_are_refused(self):
        with self.assertRaises(RuntimeError):
            Scripts().check([[b"FCALL", b"f", b"0"]])


if __name__ == "__main__":
    unittest.main()
