# The router as a MicroPython user C module for the CMake ports (esp32, rp2):
# included by ../micropython.cmake
add_library(usermod_blrouter INTERFACE)

target_sources(usermod_blrouter INTERFACE
    ${CMAKE_CURRENT_LIST_DIR}/modblrouter.c
    ${CMAKE_CURRENT_LIST_DIR}/../../router.c
    ${CMAKE_CURRENT_LIST_DIR}/../../router_snapshot.c
)

target_include_directories(usermod_blrouter INTERFACE
    ${CMAKE_CURRENT_LIST_DIR}/../..
)

target_link_libraries(usermod INTERFACE usermod_blrouter)
