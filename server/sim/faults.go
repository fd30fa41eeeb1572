package main

import (
	"math/rand/v2"
	"sync"
	"time"
)

// faulter injects the faults named in -faults (kill: SIGKILL of a server under load, then a
// restart; pgstop: PostgreSQL stopped in immediate mode, then started; wsdrop: a subscriber's
// socket dropped, to be resumed with afterVersion; slowsub: a subscriber that stops reading for
// up to five seconds): one every -fault-steps steps, at the same
// steps for the same seed, while the workers go on.
type faulter struct {
	s     *sim
	rng   *rand.Rand
	kinds []string
	busy  sync.Mutex
	wg    sync.WaitGroup
}

func (s *sim) newFaulter(rng *rand.Rand) *faulter {
	f := &faulter{s: s, rng: rng}
	for _, k := range s.o.faultList {
		if k == "pgstop" && s.e.cluster == nil {
			continue // SQLite has no server to stop
		}
		f.kinds = append(f.kinds, k)
	}
	return f
}

// atStep starts a fault when step is one of the fault steps and no fault is under way.
func (f *faulter) atStep(step int) {
	if len(f.kinds) == 0 || step%f.s.o.faultSteps != 0 || !f.busy.TryLock() {
		return
	}
	kind := f.kinds[f.rng.IntN(len(f.kinds))]
	pause := time.Duration(200+f.rng.IntN(1500)) * time.Millisecond
	srv, sub := f.rng.IntN(len(f.s.e.servers)), f.rng.IntN(max(len(f.s.subs), 1))
	f.wg.Go(func() {
		defer f.busy.Unlock()
		f.s.inject(kind, pause, srv, sub)
	})
}

// wait waits for a fault under way to end.
func (f *faulter) wait() { f.wg.Wait() }

// inject runs one fault: pause is how long the server or the database stays down, srv and sub
// pick the server to kill and the subscriber to drop.
func (s *sim) inject(kind string, pause time.Duration, srvIdx, subIdx int) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.statsMu.Lock()
	s.faults[kind]++
	s.statsMu.Unlock()
	switch kind {
	case "kill":
		srv := s.e.servers[srvIdx]
		s.e.beginFault()
		srv.mu.Lock()
		p := srv.proc
		srv.proc = nil
		srv.mu.Unlock()
		if p != nil {
			p.Kill()
		}
		s.o.log("fault: server %d killed (SIGKILL)", srv.idx)
		time.Sleep(pause)
		if err := s.e.start(srv); err != nil {
			s.violate(0, "fault", nil, "server restart failed: "+err.Error())
		}
		s.e.endFault()
	case "pgstop":
		s.e.beginFault()
		s.o.log("fault: PostgreSQL stopped (immediate)")
		if err := s.e.cluster.StopImmediate(); err != nil {
			s.violate(0, "fault", nil, "PostgreSQL immediate stop: "+err.Error())
		}
		time.Sleep(pause)
		if err := s.e.cluster.Start(); err != nil {
			s.violate(0, "fault", nil, "PostgreSQL restart failed: "+err.Error())
		}
		s.e.endFault()
	case "slowsub":
		if len(s.subs) > 0 {
			s.subs[subIdx].pauseUntil.Store(time.Now().Add(3 * pause).UnixNano())
		}
	case "wsdrop":
		if len(s.subs) > 0 {
			s.subs[subIdx].drop()
		}
	}
}
