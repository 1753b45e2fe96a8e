*** Settings ***
Documentation     The new image over HTTP (the description's requests), a restart, and the
...               new image runs.
Resource          bench.resource
Suite Setup       Start Board With Old Image
Suite Teardown    Stop Board

*** Test Cases ***
New Image Is Staged By HTTP
    Upload Image Via HTTP    new
    Upload Should Be Accepted
    Staging Slot Should Hold    new
    Application Slot Should Hold    old

Restart Runs The New Image
    Restart Board    via=http
    Board Should Run Image    new
    Application Slot Should Hold    new

Journal Says Done
    [Tags]    sample
    JSON Should Report    /status    journal.state    DONE
