#!/usr/bin/env python3
"""Generate WeCom callback-crypto test vectors independently of the Rust implementation.

Only Python's standard library (hashlib, base64, struct) and an AES-256-CBC primitive are used:
the `cryptography` package if it is installed, otherwise the `openssl enc -aes-256-cbc -nopad`
command line. When both are available every ciphertext is computed with both and compared.
PKCS#7 padding (block 32, as WeCom specifies) is applied by hand, so no library padding is
involved. Nothing here imports or runs the Rust crate.

The scheme (developer.work.weixin.qq.com document paths 91144 / 96466):
    AESKey = base64_decode(EncodingAESKey + "="), IV = AESKey[:16], AES-256-CBC
    plaintext = random(16) || len(msg) as u32 big-endian || msg || receive_id, PKCS#7 to 32
    Encrypt = base64(ciphertext)
    msg_signature = sha1_hex("".join(sorted([token, timestamp, nonce, Encrypt])))

Output: wecom_vectors.rs next to this script, a Rust file of constants that the crate's
`tests/protocol/known_vectors.rs` includes. The output is deterministic: run

    python3 crates/yutang-wecom/tests/vectors/gen_vectors.py

and `git diff` should show nothing. The first vector is the worked example of WeCom's own
documentation; the script asserts that it reproduces the published signature and echostr.
"""

import base64
import hashlib
import os
import shutil
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "wecom_vectors.rs")
PAD_BLOCK = 32
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


# --- AES-256-CBC without padding ------------------------------------------------------------

def _aes_cryptography(key, iv, data, decrypt):
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    cipher = Cipher(algorithms.AES(key), modes.CBC(iv))
    ctx = cipher.decryptor() if decrypt else cipher.encryptor()
    return ctx.update(data) + ctx.finalize()


def _aes_openssl(key, iv, data, decrypt):
    args = ["openssl", "enc", "-aes-256-cbc", "-nopad", "-K", key.hex(), "-iv", iv.hex()]
    if decrypt:
        args.append("-d")
    return subprocess.run(args, input=data, stdout=subprocess.PIPE, check=True).stdout


def _backends():
    backends = []
    try:
        import cryptography  # noqa: F401

        backends.append(("cryptography", _aes_cryptography))
    except ImportError:
        pass
    if shutil.which("openssl"):
        backends.append(("openssl", _aes_openssl))
    if not backends:
        sys.exit("need the `cryptography` package or the `openssl` command")
    return backends


BACKENDS = _backends()


def aes_cbc(key, data, decrypt=False):
    assert len(key) == 32 and len(data) % 16 == 0
    results = {name: fn(key, key[:16], data, decrypt) for name, fn in BACKENDS}
    values = set(results.values())
    assert len(values) == 1, f"AES backends disagree: {results}"
    return values.pop()


# --- The scheme -------------------------------------------------------------------------------

def aes_key(encoding_aes_key):
    assert len(encoding_aes_key) == 43
    # Python's decoder, like WeCom's, ignores the two spare bits of the last character.
    key = base64.b64decode(encoding_aes_key + "=")
    assert len(key) == 32
    return key


def pkcs7_pad32(data):
    n = PAD_BLOCK - len(data) % PAD_BLOCK
    return data + bytes([n]) * n


def frame(random16, msg, receive_id):
    assert len(random16) == 16
    return random16 + struct.pack(">I", len(msg)) + msg + receive_id


def encrypt_raw(key, plain):
    return base64.b64encode(aes_cbc(key, plain)).decode("ascii")


def signature(token, timestamp, nonce, encrypt):
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypt])).encode()).hexdigest()


def envelope(encrypt, sig, timestamp, nonce):
    # The reply / push envelope, in the layout of WeCom's official samples (single line).
    return (
        f"<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt>"
        f"<MsgSignature><![CDATA[{sig}]]></MsgSignature>"
        f"<TimeStamp>{timestamp}</TimeStamp>"
        f"<Nonce><![CDATA[{nonce}]]></Nonce></xml>"
    )


def post_body(to_user, encrypt, agent_id):
    # The callback POST body WeCom sends.
    return (
        f"<xml><ToUserName><![CDATA[{to_user}]]></ToUserName>"
        f"<Encrypt><![CDATA[{encrypt}]]></Encrypt>"
        f"<AgentID><![CDATA[{agent_id}]]></AgentID></xml>"
    )


# --- Deterministic inputs ----------------------------------------------------------------------

def det_bytes(label, n):
    out = b""
    counter = 0
    while len(out) < n:
        out += hashlib.sha256(f"{label}/{counter}".encode()).digest()
        counter += 1
    return out[:n]


def det_encoding_aes_key(label):
    # Like the WeCom console: 43 characters from a-z, A-Z, 0-9 (spare bits not necessarily 0).
    return "".join(ALNUM[b % len(ALNUM)] for b in det_bytes("key/" + label, 43))


# --- Vectors ---------------------------------------------------------------------------------

DOC = {
    "token": "QDG6eK",
    "encoding_aes_key": "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
    "receive_id": "wx5823bf96d3bd56c7",
    "timestamp": "1409659589",
    "nonce": "263014780",
    "echostr": "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==",
    "msg_signature": "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3",
}

EVENT_XML = (
    "<xml><ToUserName><![CDATA[{corp}]]></ToUserName>"
    "<FromUserName><![CDATA[sys]]></FromUserName>"
    "<CreateTime>1700000000</CreateTime>"
    "<MsgType><![CDATA[event]]></MsgType>"
    "<Event><![CDATA[change_external_contact]]></Event>"
    "<ChangeType><![CDATA[add_external_contact]]></ChangeType>"
    "<UserID><![CDATA[zhangsan]]></UserID>"
    "<ExternalUserID><![CDATA[wmAbCdEfGhIjKlMnOpQrStUvWxYz012345]]></ExternalUserID>"
    "<State><![CDATA[门店A-海报]]></State>"
    "<WelcomeCode><![CDATA[CALLBACK_CODE]]></WelcomeCode></xml>"
)


def chat_update_xml(corp, members):
    items = "".join(f"<Item><![CDATA[{m}]]></Item>" for m in members)
    return (
        f"<xml><ToUserName><![CDATA[{corp}]]></ToUserName>"
        "<FromUserName><![CDATA[sys]]></FromUserName><CreateTime>1700000001</CreateTime>"
        "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_external_chat]]></Event>"
        "<ChatId><![CDATA[wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA]]></ChatId>"
        "<ChangeType><![CDATA[update]]></ChangeType>"
        "<UpdateDetail><![CDATA[add_member]]></UpdateDetail><JoinScene>1</JoinScene>"
        f"<MemChangeCnt>{len(members)}</MemChangeCnt><MemChangeList>{items}</MemChangeList></xml>"
    )


def positive_vectors():
    vectors = []

    # 1. WeCom's documented example, reproduced from its random prefix.
    key = aes_key(DOC["encoding_aes_key"])
    plain = aes_cbc(key, base64.b64decode(DOC["echostr"]), decrypt=True)
    pad = plain[-1]
    assert 1 <= pad <= 32 and plain[-pad:] == bytes([pad]) * pad
    body = plain[:-pad]
    (msg_len,) = struct.unpack(">I", body[16:20])
    msg, rid = body[20 : 20 + msg_len], body[20 + msg_len :]
    assert rid.decode() == DOC["receive_id"]
    sig = signature(DOC["token"], DOC["timestamp"], DOC["nonce"], DOC["echostr"])
    assert sig == DOC["msg_signature"], "published signature not reproduced"
    assert encrypt_raw(key, pkcs7_pad32(frame(body[:16], msg, rid))) == DOC["echostr"]
    vectors.append(
        dict(
            name="wecom_documentation_echostr",
            token=DOC["token"],
            encoding_aes_key=DOC["encoding_aes_key"],
            receive_id=DOC["receive_id"],
            random=body[:16],
            msg=msg.decode(),
            timestamp=DOC["timestamp"],
            nonce=DOC["nonce"],
            agent_id="1000002",
        )
    )

    # 2.. Generated cases: short, empty, exactly one full block of padding, multi-byte UTF-8,
    # a long payload, an empty receive id (personal third-party apps).
    corp = "ww7d2a4f8e1c3b5a90"
    full_block_msg = "x" * (64 - 16 - 4 - len(corp))  # frame is 64 bytes: pad is a whole 32
    assert len(frame(b"\0" * 16, full_block_msg.encode(), corp.encode())) % 32 == 0
    generated = [
        ("echostr_digits", corp, "8315716436112446528"),
        ("empty_message", corp, ""),
        ("full_padding_block", corp, full_block_msg),
        ("add_external_contact_utf8", corp, EVENT_XML.format(corp=corp)),
        ("chat_update_120_members", corp, chat_update_xml(corp, [f"wmMember{i:04d}" for i in range(120)])),
        ("empty_receive_id", "", "<xml><Content><![CDATA[你好, WeCom]]></Content></xml>"),
    ]
    for i, (name, receive_id, msg) in enumerate(generated):
        vectors.append(
            dict(
                name=name,
                token=f"tok{i}" + det_encoding_aes_key(name)[:8],
                encoding_aes_key=det_encoding_aes_key(name),
                receive_id=receive_id,
                random=det_bytes("random/" + name, 16),
                msg=msg,
                timestamp=str(1700000000 + i),
                nonce=str(int.from_bytes(det_bytes("nonce/" + name, 4), "big")),
                agent_id=str(1000002 + i),
            )
        )

    for v in vectors:
        key = aes_key(v["encoding_aes_key"])
        plain = pkcs7_pad32(frame(v["random"], v["msg"].encode(), v["receive_id"].encode()))
        v["encrypt"] = encrypt_raw(key, plain)
        v["msg_signature"] = signature(v["token"], v["timestamp"], v["nonce"], v["encrypt"])
        v["envelope"] = envelope(v["encrypt"], v["msg_signature"], v["timestamp"], v["nonce"])
        v["post_body"] = post_body(v["receive_id"], v["encrypt"], v["agent_id"])
    assert vectors[0]["encrypt"] == DOC["echostr"]
    return vectors


def negative_vectors():
    """Payloads signed with the right token, so the failure is the payload's own."""
    token = "negToken"
    eak = det_encoding_aes_key("negative")
    key = aes_key(eak)
    corp = "ww0a1b2c3d4e5f6a7b"
    rnd = det_bytes("random/negative", 16)
    good = frame(rnd, b"<xml><A>1</A></xml>", corp.encode())

    def with_pad_byte(data, value, count):
        data = data + bytes([value]) * count
        return data + bytes([value]) * ((-len(data)) % 16)

    inconsistent = bytearray(pkcs7_pad32(frame(rnd, b"<xml/>", corp.encode())))
    inconsistent[-2] ^= 0x01
    huge_len = bytearray(pkcs7_pad32(good))
    huge_len[16:20] = struct.pack(">I", 0xFFFFFFFF)
    over_by_one = bytearray(pkcs7_pad32(good))
    over_by_one[16:20] = struct.pack(">I", len(b"<xml><A>1</A></xml>") + len(corp) + 1)

    cases = [
        # (name, Encrypt text, expected official error code)
        ("wrong_receive_id", encrypt_raw(key, pkcs7_pad32(frame(rnd, b"<xml/>", b"wwSomeoneElse"))), -40005),
        ("pad_value_zero", encrypt_raw(key, with_pad_byte(good, 0, 1)), -40007),
        ("pad_value_33", encrypt_raw(key, with_pad_byte(good, 33, 33)), -40007),
        ("pad_bytes_inconsistent", encrypt_raw(key, bytes(inconsistent)), -40007),
        ("not_whole_blocks", base64.b64encode(det_bytes("ct/odd", 40)).decode(), -40007),
        ("empty_ciphertext", "", -40007),
        ("msg_len_u32_max", encrypt_raw(key, bytes(huge_len)), -40008),
        ("msg_len_one_past_end", encrypt_raw(key, bytes(over_by_one)), -40008),
        ("frame_shorter_than_prefix", encrypt_raw(key, pkcs7_pad32(rnd[:10])), -40008),
        ("message_not_utf8", encrypt_raw(key, pkcs7_pad32(frame(rnd, b"\xff\xfe<xml/>", corp.encode()))), -40008),
        ("not_base64", "this is *not* base64!", -40010),
    ]
    out = []
    for i, (name, encrypt, code) in enumerate(cases):
        timestamp, nonce = str(1700001000 + i), str(424242 + i)
        out.append(
            dict(
                name=name,
                token=token,
                encoding_aes_key=eak,
                receive_id=corp,
                timestamp=timestamp,
                nonce=nonce,
                encrypt=encrypt,
                msg_signature=signature(token, timestamp, nonce, encrypt),
                expected_code=code,
            )
        )
    # A valid payload with a signature over something else.
    valid = encrypt_raw(key, pkcs7_pad32(good))
    out.append(
        dict(
            name="signature_of_other_text",
            token=token,
            encoding_aes_key=eak,
            receive_id=corp,
            timestamp="1700002000",
            nonce="1",
            encrypt=valid,
            msg_signature=signature(token, "1700002000", "1", valid + "x"),
            expected_code=-40001,
        )
    )
    return out


# --- Rust output -------------------------------------------------------------------------------

def rust_str(s):
    out = ['"']
    for ch in s:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif 0x20 <= ord(ch) < 0x7F:
            out.append(ch)
        else:
            out.append(f"\\u{{{ord(ch):x}}}")
    out.append('"')
    return "".join(out)


def main():
    pos = positive_vectors()
    neg = negative_vectors()
    lines = [
        "// @generated by gen_vectors.py (same directory): do not edit by hand.",
        f"// AES backends used and cross-checked: {', '.join(n for n, _ in BACKENDS)}.",
        "// Regenerate: python3 crates/yutang-wecom/tests/vectors/gen_vectors.py",
        "",
        "pub const VECTORS: &[Vector] = &[",
    ]
    for v in pos:
        lines.append("    Vector {")
        for field in ["name", "token", "encoding_aes_key", "receive_id"]:
            lines.append(f"        {field}: {rust_str(v[field])},")
        lines.append(f"        random_hex: {rust_str(v['random'].hex())},")
        for field in ["msg", "timestamp", "nonce", "encrypt", "msg_signature", "envelope", "post_body"]:
            lines.append(f"        {field}: {rust_str(v[field])},")
        lines.append("    },")
    lines.append("];")
    lines.append("")
    lines.append("pub const NEGATIVE_VECTORS: &[NegativeVector] = &[")
    for v in neg:
        lines.append("    NegativeVector {")
        for field in ["name", "token", "encoding_aes_key", "receive_id", "timestamp", "nonce", "encrypt", "msg_signature"]:
            lines.append(f"        {field}: {rust_str(v[field])},")
        lines.append(f"        expected_code: {v['expected_code']},")
        lines.append("    },")
    lines.append("];")
    with open(OUT, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {len(pos)} vectors and {len(neg)} negative vectors to {OUT}")


if __name__ == "__main__":
    main()
