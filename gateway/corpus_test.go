package gateway_test

import (
	"sync"

	"github.com/ipcord/ipcord/gateway/internal/corpus"
)

var (
	corpusOnce sync.Once
	theCorpus  *corpus.Corpus
)

// benchCorpus builds the shared benchmark corpus once per test binary.
func benchCorpus() *corpus.Corpus {
	corpusOnce.Do(func() { theCorpus = corpus.Generate() })
	return theCorpus
}
