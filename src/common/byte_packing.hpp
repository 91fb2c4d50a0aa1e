// Flat binary packing of training states: what parallel workers send the leader in bulk
// (rows kept whole, stored columns), where a JSON value per row would cost more than the pass.
#pragma once

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace pgfraud {

// Appends the bytes of a trivially copyable value.
template <typename T>
void Put(std::vector<uint8_t>& out, const T& x) {
  const auto* p = reinterpret_cast<const uint8_t*>(&x);
  out.insert(out.end(), p, p + sizeof(T));
}

// Appends n values of a trivially copyable type.
template <typename T>
void PutArray(std::vector<uint8_t>& out, const T* values, size_t n) {
  const auto* p = reinterpret_cast<const uint8_t*>(values);
  out.insert(out.end(), p, p + n * sizeof(T));
}

// Reads what Put wrote; throws std::runtime_error on a truncated or corrupt buffer.
class Unpacker {
 public:
  Unpacker(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool Done() const { return at_ == size_; }
  size_t Left() const { return size_ - at_; }
  void Skip(size_t n) {
    if (n > Left()) throw std::runtime_error("corrupt training statistics");
    at_ += n;
  }
  void Bytes(void* to, size_t n) {
    if (n > Left()) throw std::runtime_error("corrupt training statistics");
    if (n > 0) std::memcpy(to, data_ + at_, n);
    at_ += n;
  }
  template <typename T>
  T Get() {
    T x;
    Bytes(&x, sizeof x);
    return x;
  }
  // Reads n values into `out` (resized), refusing counts the buffer cannot hold.
  template <typename Vector>
  void Array(Vector& out, uint64_t n) {
    using T = typename Vector::value_type;
    if (n > Left() / sizeof(T)) throw std::runtime_error("corrupt training statistics");
    out.resize(n);
    Bytes(out.data(), n * sizeof(T));
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t at_ = 0;
};

}  // namespace pgfraud
