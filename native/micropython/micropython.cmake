# MicroPython user C modules of branchline, for the CMake ports (esp32, rp2):
#   idf.py -D USER_C_MODULES=<abs path>/native/micropython/micropython.cmake build
# The make ports (unix) take the folder: USER_C_MODULES=<abs path>/native/micropython
include(${CMAKE_CURRENT_LIST_DIR}/blrouter/micropython.cmake)
