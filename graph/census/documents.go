package census

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"coffer/ent"
	"coffer/ent/documentfile"
	"coffer/ent/person"
	"coffer/ent/procedure"
	"coffer/graph/apperr"
	"coffer/graph/delivery"
	"coffer/graph/store"
)

// Limits on a document verification's files.
const (
	MaxFiles        = 5
	MaxFileBytes    = 5 << 20 // per file, decoded
	maxFilenameLen  = 255
	maxBase64Length = (MaxFileBytes + 2) / 3 * 4
)

// File is one uploaded file as the client sends it.
type File struct {
	Filename      string
	ContentType   string
	Base64Content string
}

// magic is the signature each allowed content type starts with.
var magic = map[documentfile.ContentType][]byte{
	documentfile.ContentTypeJPEG: {0xFF, 0xD8, 0xFF},
	documentfile.ContentTypePNG:  {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'},
	documentfile.ContentTypePDF:  []byte("%PDF-"),
}

// sniff names the allowed type the bytes really are, "" for none.
func sniff(b []byte) documentfile.ContentType {
	for t, m := range magic {
		if bytes.HasPrefix(b, m) {
			return t
		}
	}
	return ""
}

type decodedFile struct {
	name        string
	contentType documentfile.ContentType
	content     []byte
	sum         string
}

// decodeFiles checks every file (count, name, declared type, base64, size, and the decoded bytes
// against the declared type) and reports every problem at once.
func decodeFiles(files []File) ([]decodedFile, error) {
	f := apperr.Fields{}
	switch {
	case len(files) == 0:
		f.Add("files", "give at least one file")
	case len(files) > MaxFiles:
		f.Add("files", "at most 5 files")
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	out := make([]decodedFile, 0, len(files))
	for i, file := range files {
		n := "file " + itoa(i+1) + ": "
		name := strings.TrimSpace(file.Filename)
		if name == "" || len(name) > maxFilenameLen || !utf8.ValidString(name) || strings.ContainsAny(name, "/\\\x00\r\n") {
			f.Add("filename", n+"a name of 1 to 255 characters without slashes or line breaks")
		}
		ct := documentfile.ContentType(strings.ToLower(strings.TrimSpace(file.ContentType)))
		if documentfile.ContentTypeValidator(ct) != nil {
			f.Add("contentType", n+"must be image/jpeg, image/png or application/pdf")
		}
		if len(file.Base64Content) > maxBase64Length+4 {
			f.Add("base64Content", n+"larger than 5 MiB")
			continue
		}
		content, err := base64.StdEncoding.DecodeString(file.Base64Content)
		switch {
		case err != nil:
			f.Add("base64Content", n+"not valid base64")
			continue
		case len(content) == 0:
			f.Add("base64Content", n+"empty")
			continue
		case len(content) > MaxFileBytes:
			f.Add("base64Content", n+"larger than 5 MiB")
			continue
		}
		if real := sniff(content); real != ct && documentfile.ContentTypeValidator(ct) == nil {
			what := "neither JPEG, PNG nor PDF"
			if real != "" {
				what = string(real)
			}
			f.Add("contentType", n+"declared "+string(ct)+" but the content is "+what)
		}
		sum := sha256.Sum256(content)
		out = append(out, decodedFile{name: name, contentType: ct, content: content, sum: hex.EncodeToString(sum[:])})
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// RequestDocumentVerification adds the checked files to the person's DOCUMENT_VERIFICATION
// procedure and marks the person's verification VERIFICATION_RECEIVED (a new version): to the
// pending one requestVerification opened, when it still waits for its files, otherwise to a new
// one. A pending one that already has files is CONFLICT. Nothing is stored unless every file is
// fine.
func (s *Service) RequestDocumentVerification(ctx context.Context, a Actor, p *ent.Person, files []File, prioritized bool) (*ent.Procedure, error) {
	decoded, err := decodeFiles(files)
	if err != nil {
		return nil, err
	}
	info := make([]map[string]any, len(decoded))
	for i, d := range decoded {
		info[i] = map[string]any{"filename": d.name, "contentType": d.contentType, "size": len(d.content), "sha256": d.sum}
	}
	return store.InTx(ctx, s.Client, func(tx *ent.Tx) (*ent.Procedure, error) {
		locked, err := s.lockPerson(ctx, tx, p.ID)
		if err != nil {
			return nil, err
		}
		if err := open(locked); err != nil {
			return nil, err
		}
		now := s.now()
		pr, err := s.documentProcedure(ctx, tx, a, locked, map[string]any{"files": info}, prioritized, now)
		if err != nil {
			return nil, err
		}
		for _, d := range decoded {
			if err := tx.DocumentFile.Create().SetProcedureID(pr.ID).SetFilename(d.name).
				SetContentType(d.contentType).SetSize(int64(len(d.content))).SetSha256(d.sum).
				SetContent(d.content).Exec(ctx); err != nil {
				return nil, err
			}
		}
		if locked.Verification == person.VerificationVERIFICATION_RECEIVED {
			return pr, nil
		}
		np, err := tx.Person.UpdateOneID(locked.ID).SetVerification(person.VerificationVERIFICATION_RECEIVED).
			SetUpdatedAt(now).Save(ctx)
		if err != nil {
			return nil, err
		}
		return pr, writeVersion(ctx, tx, a, np, now, &pr.ID)
	})
}

// documentProcedure returns the DOCUMENT_VERIFICATION procedure that receives new files: the
// pending one without files (opened by requestVerification), given info and, when asked,
// prioritized; or a new one. A pending one with files is CONFLICT: a clerk decides on one set of
// documents at a time.
func (s *Service) documentProcedure(ctx context.Context, tx *ent.Tx, a Actor, p *ent.Person, info map[string]any,
	prioritized bool, now time.Time,
) (*ent.Procedure, error) {
	pending, err := tx.Procedure.Query().Where(procedure.PersonID(p.ID), procedure.StateEQ(procedure.StatePENDING),
		procedure.TypeEQ(procedure.TypeDOCUMENT_VERIFICATION)).First(ctx)
	if err != nil && !ent.IsNotFound(err) {
		return nil, err
	}
	raw, err := json.Marshal(info)
	if err != nil {
		return nil, err
	}
	if pending == nil {
		return tx.Procedure.Create().SetType(procedure.TypeDOCUMENT_VERIFICATION).SetPersonID(p.ID).
			SetInformation(raw).SetPrioritized(prioritized).SetCreatedAt(now).SetCreatedByID(a.UserID).Save(ctx)
	}
	hasFiles, err := tx.DocumentFile.Query().Where(documentfile.ProcedureID(pending.ID)).Exist(ctx)
	if err != nil {
		return nil, err
	}
	if hasFiles {
		return nil, apperr.New(apperr.Conflict, "the person already has a pending %s procedure", procedure.TypeDOCUMENT_VERIFICATION)
	}
	return pending.Update().SetInformation(raw).SetPrioritized(pending.Prioritized || prioritized).Save(ctx)
}

// RequestVerification asks the person for identity documents: a pending DOCUMENT_VERIFICATION
// procedure without files (requestDocumentVerification adds them later) and the person's
// verification VERIFICATION_REQUESTED, a new version. A person with an e-mail address is told by
// e-mail, after the commit, through the delivery queue; a failed e-mail is logged, the request
// stands. A VERIFIED person is PRECONDITION_FAILED (a new document resets that first); a pending
// document verification is CONFLICT.
func (s *Service) RequestVerification(ctx context.Context, a Actor, p *ent.Person) (*ent.Procedure, error) {
	var notify *ent.Person
	pr, err := s.request(ctx, a, p.ID, procedure.TypeDOCUMENT_VERIFICATION, map[string]any{"files": []any{}, "requested": true}, false,
		func(tx *ent.Tx, locked *ent.Person, pr *ent.Procedure, now time.Time) error {
			if locked.Verification == person.VerificationVERIFIED {
				return apperr.New(apperr.PreconditionFailed, "the person's identity is already verified")
			}
			np, err := tx.Person.UpdateOneID(locked.ID).SetVerification(person.VerificationVERIFICATION_REQUESTED).
				SetUpdatedAt(now).Save(ctx)
			if err != nil {
				return err
			}
			notify = np
			return writeVersion(ctx, tx, a, np, now, &pr.ID)
		})
	if err != nil {
		return nil, err
	}
	s.tellVerificationRequested(ctx, notify)
	return pr, nil
}

// verificationNotice is the e-mail of requestVerification. It carries no secret; its "code" (what
// the outbox records) is the person's census reference, which they quote when they answer.
const verificationNotice = `Hello %s,

The census asks you to verify your identity. Please bring or send an identity document,
quoting your census reference %s.
`

// tellVerificationRequested e-mails the notice through the delivery queue when there is one, else
// at once. A failure is logged, never returned: the request it announces is committed.
func (s *Service) tellVerificationRequested(ctx context.Context, p *ent.Person) {
	if s.Codes == nil || s.Codes.Sender == nil || p.Email == nil {
		return
	}
	ref := QualifiedID(p)
	msg := delivery.Message{Channel: delivery.ChannelEmail, To: *p.Email, Subject: "Please verify your identity",
		Text: fmt.Sprintf(verificationNotice, p.FirstName, ref), Code: ref}
	onFail := func(err error) {
		slog.Error("census: verification request not delivered", "person_id", p.ID, "err", err)
	}
	if s.Codes.Queue != nil {
		s.Codes.Queue.Enqueue(msg, onFail)
		return
	}
	if err := s.Codes.Sender.Send(context.WithoutCancel(ctx), msg); err != nil {
		onFail(err)
	}
}

// Files lists a procedure's files (metadata and content).
func (s *Service) Files(ctx context.Context, procedureID int) ([]*ent.DocumentFile, error) {
	return s.Client.DocumentFile.Query().Where(documentfile.ProcedureID(procedureID)).
		Order(ent.Asc(documentfile.FieldID)).All(ctx)
}
