*** Settings ***
Documentation     Images made bad by `python -m pybench image corrupt` (our image format) are
...               refused with a reason, and the old image keeps running untouched.
Force Tags        format-pybench
Resource          bench.resource
Suite Setup       Start Board With Old Image
Suite Teardown    Stop Board
Test Template     Bad Image Is Rejected

*** Test Cases ***    FAULT
Wrong Magic           magic
Wrong Target          target
Wrong Digest          digest
Truncated             truncate
Header CRC            header-crc
Oversize              oversize
Empty Body            empty

*** Keywords ***
Bad Image Is Rejected
    [Arguments]    ${fault}
    ${image}=    Create Corrupt Image    ${fault}
    Upload Image Via HTTP    ${image}
    Upload Should Be Rejected
    Application Slot Should Hold    old
    ${version}=    Image Version    old
    Probe Should Report Version    ${version}
