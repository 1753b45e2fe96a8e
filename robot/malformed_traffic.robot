*** Settings ***
Documentation     Frames broken on purpose (pybench/net/malformed.py) are dropped or refused,
...               and the board still answers ping and HTTP afterwards.
Resource          bench.resource
Suite Setup       Start Board With Old Image
Suite Teardown    Stop Board

*** Test Cases ***
Broken IP Headers Are Dropped
    Send Malformed Frames    runt    ip-bad-checksum    ip-total-length-too-big
    ...    ip-header-length-too-small    ip-options-past-the-end    ip-fragment    jumbo
    Ping Board    count=2

Broken UDP And TFTP Are Survived
    Send Malformed Frames    udp-length-too-big    tftp-garbage-opcode    tftp-wrq-without-nul
    Ping Board    count=1

Broken TCP Is Survived
    Send Malformed Frames    tcp-bad-data-offset    tcp-bad-checksum
    ...    tcp-data-without-connection    tcp-syn-fin    arp-truncated    icmp-truncated
    HTTP Request Should Answer    GET    /    200

Malformed HTTP Requests Get 400
    [Tags]    sample
    Raw HTTP Request Should Answer    GET /status HTTP/1.1\r\nHost : x\r\n\r\n    400
    Raw HTTP Request Should Answer    GET /status\r\n\r\n    400
    Raw HTTP Request Should Answer    POST /update HTTP/1.1\r\nContent-Type: multipart/form-data\r\nContent-Length: 10\r\n\r\n0123456789    400

Unknown Method Is Not Allowed
    [Tags]    sample
    HTTP Request Should Answer    BREW    /status    405

Everything At Once
    Send Malformed Frames
    Ping Board    count=1
    Application Slot Should Hold    old
    ${version}=    Image Version    old
    Probe Should Report Version    ${version}
    Board Should Not Have Faulted
