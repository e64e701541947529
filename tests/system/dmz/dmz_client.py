"""An SMTP client in one of the DMZ test's namespaces: smtplib over a
socket made in that namespace (Network.socket), so a message sent "from
the internet" really comes from 198.51.100.1 over the veth links."""

import smtplib

REPLY_TIMEOUT = 10


class NetnsSMTP(smtplib.SMTP):
    def __init__(self, net, role, host, port=25):
        self._net = net
        self._role = role
        super().__init__(host, port, local_hostname=f"client.{role}.test", timeout=REPLY_TIMEOUT)

    def _get_socket(self, host, port, timeout):
        return self._net.connect(self._role, host, port, timeout=timeout)


def message(sender, rcpt, token):
    return (f"From: <{sender}>\r\nTo: <{rcpt}>\r\nSubject: dmz test {token}\r\n"
            f"Message-ID: <{token}@dmz.test>\r\n\r\n{token}\r\n")


def send(net, role, server, sender, rcpt, token):
    """One message; returns the reply to its end of data (code, text).
    A refused recipient raises smtplib.SMTPRecipientsRefused."""
    with NetnsSMTP(net, role, server) as smtp:
        smtp.ehlo()
        smtp.mail(sender)
        code, text = smtp.rcpt(rcpt)
        if code != 250:
            raise smtplib.SMTPRecipientsRefused({rcpt: (code, text)})
        return smtp.data(message(sender, rcpt, token))


def rcpt_reply(net, role, server, sender, rcpt):
    """The reply to RCPT TO:<rcpt> (code, text), transaction abandoned."""
    with NetnsSMTP(net, role, server) as smtp:
        smtp.ehlo()
        smtp.mail(sender)
        reply = smtp.rcpt(rcpt)
        smtp.rset()
        return reply
