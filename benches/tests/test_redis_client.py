"""The RESP2 encoding of a command, and the reading of each kind of reply."""

import io
import unittest

from bench.redis_client import RedisError, Resp, encode_command


def replying(data):
    """A client that reads `data` as the server's replies (no socket)."""
    client = Resp.__new__(Resp)
    client.file = io.BytesIO(data)
    return client


class Encoding(unittest.TestCase):
    def test_arguments_are_bulk_strings_of_their_bytes(self):
        self.assertEqual(encode_command(["SET", b"k", 12]), b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n12\r\n")

    def test_binary_argument_is_sent_as_is(self):
        self.assertEqual(encode_command([b"a\r\nb"]), b"*1\r\n$4\r\na\r\nb\r\n")


class Replies(unittest.TestCase):
    def test_each_kind(self):
        client = replying(b"+OK\r\n:42\r\n$3\r\nabc\r\n$-1\r\n*2\r\n$1\r\na\r\n:1\r\n*-1\r\n$0\r\n\r\n")
        self.assertEqual([client.read() for _ in range(7)], ["OK", 42, b"abc", None, [b"a", 1], None, b""])

    def test_an_error_is_returned_not_raised(self):
        # pipeline() collects errors among the replies; call() raises them.
        reply = replying(b"-NOSCRIPT No matching script\r\n").read()
        self.assertIsInstance(reply, RedisError)
        self.assertEqual(str(reply), "NOSCRIPT No matching script")

    def test_a_closed_connection_raises(self):
        with self.assertRaises(RedisError):
            replying(b"").read()


if __name__ == "__main__":
    unittest.main()
