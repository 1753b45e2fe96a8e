# Run inside Renode by the monitor (`include @frames_out.py`), in its IronPython 2.7
# engine, where `monitor` is the Monitor object: records every Ethernet frame the board
# sends, with its virtual time, as a line "time_ns hexbytes" appended to
# $PYBENCH_RENODE_MAILBOX/frames-out.txt, which the bench reads after each run step.
# Not imported by pybench; ruff sees it as Python 3, hence the noqa on Renode's names
# and on %-formatting (f-strings do not exist in IronPython 2.7).
# ruff: noqa: UP031


def _pybench_record_frames():
    from System import Environment
    from System.IO import File

    mailbox = Environment.GetEnvironmentVariable("PYBENCH_RENODE_MAILBOX") or "."
    path = mailbox + "/frames-out.txt"
    mach = monitor.Machine  # noqa: F821 - the monitor's own variable
    mac = mach["sysbus.ethernet"]

    def on_frame(frame):
        elapsed = mach.ElapsedVirtualTime.TimeElapsed.TotalMicroseconds
        data = "".join("%02x" % b for b in frame.Bytes)
        File.AppendAllText(path, "%d %s\n" % (int(elapsed) * 1000, data))

    mac.FrameReady += on_frame


_pybench_record_frames()
