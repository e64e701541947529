/*
 * mailwarden's default YARA rules (issue 12): the EICAR anti-virus test
 * file, so that the demo configuration and `mailwarden scan` show a
 * malware finding on a machine without clamd. EICAR's definition: the
 * 68-byte string at the start of a file, optionally followed by white
 * space, 128 bytes at most. A mail that only quotes the string inside
 * other text is not the test file (ClamAV does not flag it either).
 */
rule EICAR_Test_File
{
    meta:
        description = "EICAR anti-virus test file (harmless; tests the malware path)"
    strings:
        $eicar = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
    condition:
        $eicar at 0 and filesize <= 128
}
