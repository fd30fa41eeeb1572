package census

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"
	"unicode/utf8"

	"coffer/ent"
	"coffer/ent/documentfile"
	"coffer/ent/person"
	"coffer/ent/procedure"
	"coffer/graph/apperr"
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

// RequestDocumentVerification creates a DOCUMENT_VERIFICATION procedure with the checked files and
// marks the person's verification VERIFICATION_RECEIVED (a new version). Nothing is stored unless
// every file is fine.
func (s *Service) RequestDocumentVerification(ctx context.Context, a Actor, p *ent.Person, files []File, prioritized bool) (*ent.Procedure, error) {
	decoded, err := decodeFiles(files)
	if err != nil {
		return nil, err
	}
	info := make([]map[string]any, len(decoded))
	for i, d := range decoded {
		info[i] = map[string]any{"filename": d.name, "contentType": d.contentType, "size": len(d.content), "sha256": d.sum}
	}
	return s.request(ctx, a, p.ID, procedure.TypeDOCUMENT_VERIFICATION, map[string]any{"files": info}, prioritized,
		func(tx *ent.Tx, locked *ent.Person, now time.Time) error {
			pr, err := tx.Procedure.Query().Where(procedure.PersonID(locked.ID), procedure.StateEQ(procedure.StatePENDING),
				procedure.TypeEQ(procedure.TypeDOCUMENT_VERIFICATION)).Only(ctx)
			if err != nil {
				return err
			}
			for _, d := range decoded {
				if err := tx.DocumentFile.Create().SetProcedureID(pr.ID).SetFilename(d.name).
					SetContentType(d.contentType).SetSize(int64(len(d.content))).SetSha256(d.sum).
					SetContent(d.content).Exec(ctx); err != nil {
					return err
				}
			}
			if locked.Verification == person.VerificationVERIFICATION_RECEIVED {
				return nil
			}
			np, err := tx.Person.UpdateOneID(locked.ID).SetVerification(person.VerificationVERIFICATION_RECEIVED).
				SetUpdatedAt(now).Save(ctx)
			if err != nil {
				return err
			}
			return writeVersion(ctx, tx, a, np, now, &pr.ID)
		})
}

// Files lists a procedure's files (metadata and content).
func (s *Service) Files(ctx context.Context, procedureID int) ([]*ent.DocumentFile, error) {
	return s.Client.DocumentFile.Query().Where(documentfile.ProcedureID(procedureID)).
		Order(ent.Asc(documentfile.FieldID)).All(ctx)
}
