#include "faceweave/face.h"

namespace faceweave {

float face_similarity(const Face& a, const Face& b) {
  if (a.normed_embedding.empty() || a.normed_embedding.size() != b.normed_embedding.size()) return 0;
  double dot = 0;
  for (size_t i = 0; i < a.normed_embedding.size(); ++i)
    dot += double(a.normed_embedding[i]) * b.normed_embedding[i];
  return float(dot);
}

}  // namespace faceweave
