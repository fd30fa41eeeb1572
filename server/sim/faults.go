package main

import (
	"math/rand/v2"
	"sync"
	"time"
)

// startFaults injects the faults named in -faults (kill: SIGKILL of a server under load, then a
// restart; pgstop: PostgreSQL stopped in immediate mode, then started; wsdrop: a subscriber's
// socket dropped, to be resumed with afterVersion) every -fault-every on average, until the
// returned function is called.
func (s *sim) startFaults(rng *rand.Rand) func() {
	var kinds []string
	for _, f := range s.o.faultList {
		if f == "pgstop" && s.e.cluster == nil {
			continue // SQLite has no server to stop
		}
		kinds = append(kinds, f)
	}
	if len(kinds) == 0 {
		return func() {}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			wait := s.o.faultEvery/2 + time.Duration(rng.Int64N(int64(s.o.faultEvery)))
			select {
			case <-stop:
				return
			case <-time.After(wait):
			}
			s.inject(kinds[rng.IntN(len(kinds))], rng)
		}
	})
	return func() { close(stop); wg.Wait() }
}

func (s *sim) inject(kind string, rng *rand.Rand) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.statsMu.Lock()
	s.faults[kind]++
	s.statsMu.Unlock()
	switch kind {
	case "kill":
		srv := s.e.servers[rng.IntN(len(s.e.servers))]
		s.e.beginFault()
		srv.mu.Lock()
		p := srv.proc
		srv.proc = nil
		srv.mu.Unlock()
		if p != nil {
			p.Kill()
		}
		s.o.log("fault: server %d killed (SIGKILL)", srv.idx)
		time.Sleep(time.Duration(200+rng.IntN(1500)) * time.Millisecond)
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
		time.Sleep(time.Duration(500+rng.IntN(2000)) * time.Millisecond)
		if err := s.e.cluster.Start(); err != nil {
			s.violate(0, "fault", nil, "PostgreSQL restart failed: "+err.Error())
		}
		s.e.endFault()
	case "wsdrop":
		if len(s.subs) > 0 {
			s.subs[rng.IntN(len(s.subs))].drop()
		}
	}
}
