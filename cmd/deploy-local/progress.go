package main

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// progress says what the job does, in the scripts' log format, and keeps saying it
// while a step runs, so that no stretch of the job is silent.
type progress struct {
	w     io.Writer
	every time.Duration
	mu    sync.Mutex
}

func (p *progress) logf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "[deploy-local %s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// task is one step of the job, as progress reports it.
type task struct {
	what string // what runs, e.g. "pulumi up pr-1"
	note string // said once, at the start (how long it may take, ...)
	// detail, if set, is added to the messages while it runs (the engine's last line)
	detail func() string
}

// step runs f. It says what starts, then every p.every while f runs, then how long
// it took.
func (p *progress) step(t task, f func() error) error {
	what, detail := t.what, t.detail
	if t.note != "" {
		p.logf("%s (%s) ...", what, t.note)
	} else {
		p.logf("%s ...", what)
	}
	start := time.Now()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(p.every)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				msg := fmt.Sprintf("... %s: %s so far", what, roundDuration(time.Since(start)))
				if detail != nil {
					if d := detail(); d != "" {
						msg += "; " + d
					}
				}
				p.logf("%s", msg)
			}
		}
	}()
	err := f()
	close(done)
	wg.Wait()
	if err != nil {
		p.logf("%s: failed after %s", what, roundDuration(time.Since(start)))
		return err
	}
	p.logf("%s: done in %s", what, roundDuration(time.Since(start)))
	return nil
}

func roundDuration(d time.Duration) time.Duration {
	if d < 10*time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}

// lastLine passes writes on to w and remembers the last non-blank line written, for
// progress messages (the engine's log says which resource it works on).
type lastLine struct {
	w       io.Writer
	mu      sync.Mutex
	partial []byte
	last    string
}

func (l *lastLine) Write(b []byte) (int, error) {
	l.mu.Lock()
	l.partial = append(l.partial, b...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		if line := strings.TrimSpace(string(l.partial[:i])); line != "" {
			l.last = line
		}
		l.partial = l.partial[i+1:]
	}
	l.mu.Unlock()
	return l.w.Write(b)
}

// Last is the last complete non-blank line, at most 120 characters.
func (l *lastLine) Last() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.last) > 120 {
		return l.last[:117] + "..."
	}
	return l.last
}
