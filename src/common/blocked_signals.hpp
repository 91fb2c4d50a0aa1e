// Threads of the core run inside a PostgreSQL backend: they are started with every signal
// blocked, so the backend's handlers only ever run on the backend's own thread.
#pragma once

#include <pthread.h>
#include <signal.h>

namespace pgfraud {

// Blocks every signal of the calling thread for its lifetime; threads started meanwhile
// inherit the blocked mask.
class BlockedSignals {
 public:
  BlockedSignals() noexcept {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved_);
  }
  ~BlockedSignals() { pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }
  BlockedSignals(const BlockedSignals&) = delete;
  BlockedSignals& operator=(const BlockedSignals&) = delete;

 private:
  sigset_t saved_;
};

}  // namespace pgfraud
