// A program outside the tree, built against an installed faceweave (find_package or pkg-config): it lists the
// models of the manifest through libfaceweave.so and prints how many there are.
#include <faceweave/engine.h>

#include <iostream>

int main() {
  auto models = faceweave::list_models(faceweave::EngineOptions{});
  if (!models) {
    std::cerr << "error: " << models.status().message() << "\n";
    return 1;
  }
  std::cout << "models: " << models->size() << "\n";
  return models->empty() ? 1 : 0;
}
