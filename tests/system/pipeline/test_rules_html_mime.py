"""Content rules on HTML colours, quoted-printable lines and MIME part
headers through the gateway (issue 11; SCAN-5): SpamAssassin's
html_test('font_low_contrast') and ('font_invalid_color'),
check_for_mime('mime_qp_long_line') and mimeheader rules, with the
definitions Debian's rule files give them, on messages sent over SMTP to
the real daemon; each verdict names the rules that hit."""

import pytest

import mwsys

RULES = r"""ifplugin Mail::SpamAssassin::Plugin::HTMLEval
body     HTML_FONT_LOW_CONTRAST   eval:html_test('font_low_contrast')
score    HTML_FONT_LOW_CONTRAST   0.7
body     T_KAM_HTML_FONT_INVALID  eval:html_test('font_invalid_color')
score    T_KAM_HTML_FONT_INVALID  0.3
endif
ifplugin Mail::SpamAssassin::Plugin::MIMEEval
rawbody  MIME_QP_LONG_LINE        eval:check_for_mime('mime_qp_long_line')
score    MIME_QP_LONG_LINE        0.2
endif
ifplugin Mail::SpamAssassin::Plugin::MIMEHeader
mimeheader TVD_FW_GRAPHIC_NAME_MID  Content-Type =~ /\bname="[a-z]{6,7}\.gif/
score    TVD_FW_GRAPHIC_NAME_MID  0.6
mimeheader CTYPE_8SPACE_GIF       Content-Type:raw =~ /^image\/gif;\n {8}name=\".+?\"$/s
score    CTYPE_8SPACE_GIF         1.1
endif
"""


@pytest.fixture(scope="module")
def gw(make_gateway, make_sink, tmp_path_factory):
    rules = mwsys.write_rule_dir(tmp_path_factory.mktemp("htmlmime"), RULES)
    return make_gateway(sink=make_sink(), scan={"rules": [str(rules)], "inbound": {"checks": {"rules": "score"}}})


def message(token, content_type, body, extra=b""):
    return (b"From: a@client.test\r\nTo: user@example.test\r\nSubject: " + token + b"\r\n"
            b"Date: Mon, 07 Dec 2026 02:00:00 +0000\r\nMessage-ID: <" + token + b"@client.test>\r\n"
            b"MIME-Version: 1.0\r\nContent-Type: " + content_type + b"\r\n" + extra + b"\r\n" + body)


def hits(gw, body):
    start = gw.mark()
    final = mwsys.send_message(gw, body)
    assert final.code == 250, final
    verdict = gw.wait_event(start=start, proc="queue", event="scan_verdict", queue_id=mwsys.queue_id(final))
    return sorted(s for s in verdict["symbols"].split(",") if s and s != "none")


def test_white_text_on_the_white_page_is_low_contrast_readable_colours_are_not(gw):
    html = b"<html><body><p>Hello there.</p><font color=\"#ffffff\">hidden words</font></body></html>\r\n"
    assert hits(gw, message(b"white", b"text/html", html)) == ["HTML_FONT_LOW_CONTRAST(0.7)"]
    # bgcolor= is not applied (SpamAssassin 4 reads it but never uses it)
    html = (b"<html><body bgcolor=black><div style=\"background-color: #000\"><font color=white>x</font></div>"
            b"<font color=black>read</font></body></html>\r\n")
    assert hits(gw, message(b"readable", b"text/html", html)) == []


def test_a_colour_no_browser_reads_is_invalid(gw):
    html = b"<html><body><span style=\"color: ffffff\">text</span></body></html>\r\n"
    assert hits(gw, message(b"invalid", b"text/html", html)) == ["T_KAM_HTML_FONT_INVALID(0.3)"]


def test_a_quoted_printable_line_over_78_bytes(gw):
    body = b"short line\r\n" + b"x" * 79 + b"\r\n"
    qp = b"Content-Transfer-Encoding: quoted-printable\r\n"
    assert hits(gw, message(b"qp-long", b"text/plain", body, qp)) == ["MIME_QP_LONG_LINE(0.2)"]
    assert hits(gw, message(b"qp-ok", b"text/plain", b"x" * 78 + b"\r\n", qp)) == []


def test_mimeheader_rules_read_each_parts_header(gw):
    body = (b"--b\r\nContent-Type: text/plain\r\n\r\nsee the picture\r\n"
            b"--b\r\nContent-Type: image/gif;\r\n        name=\"abcdef.gif\"\r\n\r\nGIF89a\r\n--b--\r\n")
    assert hits(gw, message(b"gif", b"multipart/mixed; boundary=\"b\"", body)) == \
        ["CTYPE_8SPACE_GIF(1.1)", "TVD_FW_GRAPHIC_NAME_MID(0.6)"]
