package identity

import "context"

// AfterAuthRounds makes each round of s's shared session look-up call hook, with how many tokens
// it read, after its statement ran and before it answers: a test holds rounds there to make the
// next one fill, and to change the database while a round's answer is pending.
func AfterAuthRounds(s *Service, hook func(tokens int)) {
	s.authOnce.Do(s.initAuth)
	fetch := s.auth.Fetch
	s.auth.Fetch = func(ctx context.Context, hashes []string) (map[string]*authRow, error) {
		found, err := fetch(ctx, hashes)
		hook(len(hashes))
		return found, err
	}
}

// AuthLookupsWaiting is how many session look-ups of s wait for the next round.
func AuthLookupsWaiting(s *Service) int { return s.auth.Waiting() }
