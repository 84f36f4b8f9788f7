package proc

import (
	"path/filepath"
	"testing"
	"time"
)

// A restarted process appends to its predecessor's log, and WaitLog waits
// for the new process's line, not the old one's.
func TestRestartAppendsAndWaitsForItsOwnLine(t *testing.T) {
	log := filepath.Join(t.TempDir(), "p.log")
	for n := 1; n <= 2; n++ {
		p, err := Start("sleeper", log, nil, "/bin/sh", "-c", "echo up; exec sleep 60")
		if err != nil {
			t.Fatal(err)
		}
		if err := p.WaitLog("up", n, 10*time.Second); err != nil {
			t.Fatal(err)
		}
		if err := p.Kill(); err != nil || !p.Exited() {
			t.Fatalf("Kill: %v, exited %v", err, p.Exited())
		}
	}
	if got := Count(log, "up"); got != 2 {
		t.Errorf("log has %d lines from two runs, want 2", got)
	}
}

func TestWaitLogReportsAnEarlyExit(t *testing.T) {
	p, err := Start("quitter", filepath.Join(t.TempDir(), "q.log"), nil, "/bin/sh", "-c", "echo bye")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.WaitLog("never", 1, 10*time.Second); err == nil {
		t.Fatal("WaitLog on a process that exited without the line: no error")
	}
}
